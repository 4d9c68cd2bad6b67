import { CircuitOpenError, RelaybusError } from '../errors';
import { type Admission, Circuit, type CircuitSettings, type CircuitState, type Transition } from './circuit';
import type { ConsumeContext, Middleware } from './middleware';
import { checkCount, checkFunction, checkPositive } from './option-checks';

/**
 * Options for {@link circuitBreaker}.
 *
 * @example
 * ```ts
 * circuitBreaker({ failureThreshold: 3, windowMs: 10_000, resetTimeoutMs: 60_000 });
 * ```
 */
export interface CircuitBreakerOptions {
  /**
   * Consecutive failures that open the circuit.
   * @defaultValue 5
   */
  failureThreshold?: number;
  /**
   * Only failures within this many milliseconds of each other count towards `failureThreshold`; without it, any
   * run of consecutive failures does, however spread out.
   * @defaultValue undefined (no window)
   */
  windowMs?: number;
  /**
   * How long an open circuit rejects calls before letting trials through, in milliseconds.
   * @defaultValue 30_000
   */
  resetTimeoutMs?: number;
  /**
   * Trial calls let through at once while half-open. The first success closes the circuit; a failure reopens it.
   * @defaultValue 1
   */
  halfOpenMaxCalls?: number;
  /**
   * Keep one circuit per subscription and event type, instead of one per subscription.
   * @defaultValue false
   */
  perEventType?: boolean;
  /**
   * Which errors count as failures of the dependency. Others leave the circuit as it was.
   * @defaultValue every error except relaybus's `NON_RETRYABLE`, `VALIDATION_FAILED` and `CIRCUIT_OPEN` (the event,
   * not the dependency, is at fault, or an inner breaker already counted it)
   */
  isFailure?: (error: unknown) => boolean;
}

/**
 * The {@link circuitBreaker} middleware, with a reader for its circuits.
 *
 * @example
 * ```ts
 * const breaker = circuitBreaker();
 * bus.use(breaker);
 * health.check('mailer', () => breaker.state('mailer') !== 'open');
 * ```
 */
export interface CircuitBreakerMiddleware extends Middleware {
  /** The state of every circuit that has seen a call, keyed by subscription (`subscription:type` per event type). */
  state(): Readonly<Record<string, CircuitState>>;
  /** The state of one subscription's circuit (and event type's, with `perEventType`); `'closed'` if it has none. */
  state(subscription: string, eventType?: string): CircuitState;
}

const WHERE = 'circuitBreaker()';
/** How soon a call rejected because every half-open trial slot is taken is retried: trials usually end quickly. */
const HALF_OPEN_BUSY_RETRY_MS = 1_000;
const NOT_THE_DEPENDENCY: ReadonlySet<string> = new Set([
  'NON_RETRYABLE',
  'VALIDATION_FAILED',
  'CIRCUIT_OPEN',
]);

const defaultIsFailure = (error: unknown): boolean =>
  !(error instanceof RelaybusError && NOT_THE_DEPENDENCY.has(error.code));

/**
 * Stops calling a handler whose dependency keeps failing. Each subscription (optionally each subscription and event
 * type) has a circuit: after `failureThreshold` consecutive failures it opens, and deliveries fail at once with
 * {@link CircuitOpenError} without running the handler; the bus retries them after the error's `retryAfterMs`.
 * After `resetTimeoutMs` the circuit is half-open and lets `halfOpenMaxCalls` trials through: a success closes it,
 * a failure opens it again. Opening is logged as a warning, closing as info. Circuits are per process.
 *
 * Each rejected delivery still uses one of the subscription's retry attempts: give subscriptions behind a breaker
 * enough attempts to outlast `resetTimeoutMs`, or their events are dead-lettered while the circuit is open.
 *
 * @throws {@link InvalidOptionError} when a number is out of range or `isFailure` is not a function.
 * @example
 * ```ts
 * const breaker = circuitBreaker({ failureThreshold: 5, resetTimeoutMs: 30_000 });
 * bus.use(breaker);
 * bus.subscribe(TaskAssigned, sendEmail, { group: 'mailer', retry: { attempts: 20 } });
 * ```
 */
export function circuitBreaker(options: CircuitBreakerOptions = {}): CircuitBreakerMiddleware {
  const settings: CircuitSettings = {
    failureThreshold: checkCount(WHERE, 'failureThreshold', options.failureThreshold, 5),
    windowMs:
      options.windowMs === undefined ? undefined : checkPositive(WHERE, 'windowMs', options.windowMs, 0),
    resetTimeoutMs: checkPositive(WHERE, 'resetTimeoutMs', options.resetTimeoutMs, 30_000),
    halfOpenMaxCalls: checkCount(WHERE, 'halfOpenMaxCalls', options.halfOpenMaxCalls, 1),
  };
  checkFunction(WHERE, 'isFailure', options.isFailure);
  const isFailure = options.isFailure ?? defaultIsFailure;
  const perEventType = options.perEventType === true;
  // subscription -> event type ('' unless perEventType) -> circuit
  const circuits = new Map<string, Map<string, Circuit>>();

  const nameOf = (subscription: string, type: string): string =>
    type === '' ? subscription : `${subscription}:${type}`;

  const circuitFor = (subscription: string, type: string): Circuit => {
    let byType = circuits.get(subscription);
    if (byType === undefined) {
      byType = new Map();
      circuits.set(subscription, byType);
    }
    let circuit = byType.get(type);
    if (circuit === undefined) {
      circuit = new Circuit(settings);
      byType.set(type, circuit);
    }
    return circuit;
  };

  const report = (ctx: ConsumeContext, name: string, transition: Transition, error?: unknown): void => {
    if (transition === 'opened') {
      ctx.logger.warn(`circuit "${name}" opened; handling pauses for ${settings.resetTimeoutMs} ms`, {
        circuit: name,
        error,
      });
    } else if (transition === 'closed') {
      ctx.logger.info(`circuit "${name}" closed; handling resumes`, { circuit: name });
    }
  };

  function state(): Readonly<Record<string, CircuitState>>;
  function state(subscription: string, eventType?: string): CircuitState;
  function state(
    subscription?: string,
    eventType?: string,
  ): CircuitState | Readonly<Record<string, CircuitState>> {
    const now = Date.now();
    if (subscription === undefined) {
      const all: Record<string, CircuitState> = {};
      for (const [sub, byType] of circuits) {
        for (const [type, circuit] of byType) all[nameOf(sub, type)] = circuit.state(now);
      }
      return all;
    }
    const type = perEventType ? (eventType ?? '') : '';
    return circuits.get(subscription)?.get(type)?.state(now) ?? 'closed';
  }

  return {
    name: 'circuitBreaker',
    state,
    async consume(ctx, next) {
      const type = perEventType ? ctx.envelope.type : '';
      const circuit = circuitFor(ctx.subscription, type);
      const admission: Admission | number = circuit.admit(Date.now(), HALF_OPEN_BUSY_RETRY_MS);
      if (typeof admission === 'number')
        throw new CircuitOpenError(nameOf(ctx.subscription, type), admission);
      try {
        await next();
      } catch (error) {
        if (isFailure(error))
          report(ctx, nameOf(ctx.subscription, type), circuit.fail(admission, Date.now()), error);
        else circuit.ignore(admission);
        throw error;
      }
      report(ctx, nameOf(ctx.subscription, type), circuit.succeed(admission));
    },
  };
}

import {
  ClosedError,
  InvalidEnvelopeError,
  RelaybusError,
  UnknownEventError,
  ValidationError,
} from '../errors';
import { decodeEnvelope } from '../events/decode-envelope';
import { type AnyEventDefinition, upcastData, validate } from '../events/define-event';
import type { Envelope } from '../events/envelope';
import type { Logger } from '../logger';
import type {
  Delivery,
  StartFrom,
  Transport,
  TransportSubscribeOptions,
  TransportSubscription,
} from '../transport/transport';
import { Attempt, type AttemptHost, rejectDelivery } from './attempt';
import type { Catalog, ResolvedTarget } from './catalog';
import type { RetryPolicy } from './retry';
import type { PublishOptions, SubscriptionState } from './types';

/** Everything a subscription needs from its bus. */
export interface RunnerConfig {
  readonly name: string;
  /** How errors and logs name the subscription, such as `subscribe("task.created")`. */
  readonly where: string;
  readonly group: string | undefined;
  readonly startFrom: StartFrom | undefined;
  readonly target: ResolvedTarget;
  readonly concurrency: number;
  readonly timeoutMs: number;
  readonly visibilityTimeoutMs: number;
  readonly retry: RetryPolicy;
  readonly catalog: Catalog;
  readonly logger: Logger;
  readonly validateOnConsume: boolean;
  readonly transport: Transport;
  /** The user's handler. */
  readonly handler: (event: Envelope, ctx: Attempt) => unknown;
  /** Runs the handler through the current consume middleware. */
  readonly run: (attempt: Attempt) => unknown;
  readonly publish: (
    definition: AnyEventDefinition,
    data: unknown,
    options: PublishOptions,
  ) => Promise<Envelope>;
}

/** First pause before registering again after the transport could not be reached; doubles up to the cap. */
const REGISTER_RETRY_MS = 100;
const REGISTER_RETRY_CAP_MS = 5_000;

/**
 * Drives one subscription: registers it with the transport (retrying while the broker cannot be reached),
 * decodes and validates each delivery, runs the handler, enforces the timeout with one shared timer, and closes
 * cleanly.
 */
export class SubscriptionRunner implements AttemptHost {
  readonly ready: Promise<void>;
  state: SubscriptionState = 'starting';
  lastError: Error | undefined;
  private readonly inflight: Attempt[] = [];
  private sweeper: ReturnType<typeof setInterval> | undefined;
  private transportSubscription: TransportSubscription | undefined;
  private closing: Promise<void> | undefined;
  /** Aborted by close(): ends the pause between registration attempts. */
  private readonly stopper = new AbortController();

  constructor(private readonly config: RunnerConfig) {
    this.ready = this.register();
  }

  private async register(): Promise<void> {
    const { transport, logger, where } = this.config;
    let pauseMs = REGISTER_RETRY_MS;
    for (let attempt = 1; ; attempt++) {
      if (this.stopper.signal.aborted) throw new ClosedError('the subscription', `register ${where}`);
      let subscription: TransportSubscription;
      try {
        subscription = await transport.subscribe(this.transportOptions(), (delivery) =>
          this.onDelivery(delivery),
        );
      } catch (thrown) {
        const error = thrown instanceof Error ? thrown : new Error(String(thrown));
        this.lastError = error;
        if (this.stopper.signal.aborted) throw new ClosedError('the subscription', `register ${where}`);
        if (!isTransient(error)) {
          this.state = 'failed';
          throw error;
        }
        this.state = 'retrying';
        const delayMs = Math.round(pauseMs / 2 + Math.random() * (pauseMs / 2));
        // Every failure at debug; at warn the first and then at doubling intervals, so an outage is visible
        // without flooding the log.
        const level = (attempt & (attempt - 1)) === 0 ? 'warn' : 'debug';
        logger[level](
          `${where} could not register with the ${transport.name} transport (attempt ${attempt}); retrying in ${delayMs} ms`,
          { error, group: this.config.group },
        );
        await sleep(delayMs, this.stopper.signal);
        pauseMs = Math.min(REGISTER_RETRY_CAP_MS, pauseMs * 2);
        continue;
      }
      if (this.stopper.signal.aborted) {
        await subscription.close({ timeoutMs: 0 });
        throw new ClosedError('the subscription', `register ${where}`);
      }
      this.transportSubscription = subscription;
      this.state = 'active';
      if (attempt > 1) {
        logger.info(`${where} registered with the ${transport.name} transport after ${attempt} attempts`, {
          group: this.config.group,
        });
      }
      return;
    }
  }

  private transportOptions(): TransportSubscribeOptions {
    const { target, group, startFrom, concurrency, visibilityTimeoutMs } = this.config;
    return {
      ...(target.topics === undefined ? {} : { topics: target.topics }),
      ...(target.pattern === undefined ? {} : { pattern: target.pattern }),
      ...(group === undefined ? {} : { group }),
      ...(startFrom === undefined ? {} : { startFrom }),
      concurrency,
      visibilityTimeoutMs,
    };
  }

  get name(): string {
    return this.config.name;
  }
  get group(): string | undefined {
    return this.config.group;
  }
  get logger(): Logger {
    return this.config.logger;
  }
  get retry(): RetryPolicy {
    return this.config.retry;
  }
  get timeoutMs(): number {
    return this.config.timeoutMs;
  }

  get handler(): (event: Envelope, ctx: Attempt) => unknown {
    return this.config.handler;
  }

  run(attempt: Attempt): unknown {
    return this.config.run(attempt);
  }

  publish(definition: AnyEventDefinition, data: unknown, options: PublishOptions): Promise<Envelope> {
    return this.config.publish(definition, data, options);
  }

  track(attempt: Attempt): void {
    attempt.slot = this.inflight.length;
    this.inflight.push(attempt);
    if (this.sweeper === undefined) {
      const every = Math.max(5, Math.min(1_000, this.config.timeoutMs / 4));
      this.sweeper = setInterval(() => this.sweep(), every);
      this.sweeper.unref?.();
    }
  }

  untrack(attempt: Attempt): void {
    const { slot } = attempt;
    if (slot < 0) return;
    attempt.slot = -1;
    // Swap-remove: O(1), and no per-event allocation (a Set's entries churn the old generation under load).
    const last = this.inflight.pop() as Attempt;
    if (last !== attempt) {
      this.inflight[slot] = last;
      last.slot = slot;
    }
    if (this.inflight.length === 0 && this.sweeper !== undefined) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }

  close(timeoutMs: number): Promise<void> {
    this.closing ??= this.shutdown(timeoutMs);
    return this.closing;
  }

  private async shutdown(timeoutMs: number): Promise<void> {
    if (this.state !== 'failed') this.state = 'closing';
    this.stopper.abort();
    try {
      await this.ready.catch(() => undefined);
      await this.transportSubscription?.close({ timeoutMs });
    } finally {
      const reason = new RelaybusError(
        'CLOSED',
        `subscription ${this.config.name} closed before the handler settled`,
      );
      for (const attempt of [...this.inflight]) attempt.abandon(reason);
      if (this.state !== 'failed') this.state = 'closed';
    }
  }

  private sweep(): void {
    const expired = Date.now() - this.config.timeoutMs;
    // Backwards, because expiring swap-removes the attempt with the last one (already visited).
    for (let i = this.inflight.length - 1; i >= 0; i--) {
      const attempt = this.inflight[i];
      if (attempt !== undefined && attempt.startedAt <= expired) attempt.expire();
    }
  }

  private onDelivery(delivery: Delivery): void {
    const { catalog, logger, group } = this.config;
    let envelope: Envelope;
    try {
      envelope = decodeEnvelope(delivery.message.body);
    } catch (error) {
      rejectDelivery(delivery, 'INVALID_ENVELOPE', error as Error, logger, group);
      return;
    }
    const definition = catalog.get(envelope.type);
    if (definition === undefined) {
      const error = new UnknownEventError(
        envelope.type,
        catalog.types,
        `received by subscription ${this.config.name}`,
      );
      rejectDelivery(delivery, 'UNKNOWN_EVENT', error, logger, group);
      return;
    }
    if (delivery.attempt > this.config.retry.attempts) {
      const error = new RelaybusError(
        'HANDLER_FAILED',
        `"${envelope.type}" ${envelope.id} was delivered ${delivery.attempt} times without being settled (its lease expired each time)`,
      );
      rejectDelivery(delivery, 'MAX_ATTEMPTS', error, logger, group);
      return;
    }
    if (envelope.version === definition.version && !this.config.validateOnConsume) {
      new Attempt(this, delivery, envelope, definition).start();
      return;
    }
    let data: unknown;
    try {
      data = upcastData(definition, envelope.version, envelope.data);
      if (this.config.validateOnConsume) data = validate(definition.type, definition.schema, data);
    } catch (error) {
      this.rejectInvalid(delivery, error);
      return;
    }
    if (data instanceof Promise) {
      data.then(
        (value: unknown) => this.begin(delivery, envelope, definition, value),
        (error: unknown) => this.rejectInvalid(delivery, error),
      );
    } else {
      this.begin(delivery, envelope, definition, data);
    }
  }

  private begin(delivery: Delivery, envelope: Envelope, definition: AnyEventDefinition, data: unknown): void {
    const event = { ...envelope, version: definition.version, data };
    new Attempt(this, delivery, event, definition).start();
  }

  private rejectInvalid(delivery: Delivery, error: unknown): void {
    const reason = error instanceof ValidationError ? 'VALIDATION_FAILED' : 'INVALID_ENVELOPE';
    const cause = error instanceof Error ? error : new InvalidEnvelopeError(String(error));
    rejectDelivery(delivery, reason, cause, this.config.logger, this.config.group);
  }
}

/** Failures worth registering again for: the broker could not be reached, or failed a command. */
function isTransient(error: Error): boolean {
  return RelaybusError.is(error, 'TRANSPORT_UNAVAILABLE') || RelaybusError.is(error, 'TRANSPORT_FAILED');
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

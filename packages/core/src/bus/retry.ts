import { InvalidOptionError } from '../errors';

/**
 * How long to wait between attempts. Exponential by default: `initialDelayMs * multiplier^(attempt-1)`, capped at
 * `maxDelayMs`, with jitter so that many failing consumers do not retry in lockstep.
 *
 * @example
 * ```ts
 * const backoff: BackoffOptions = { initialDelayMs: 100, maxDelayMs: 10_000, jitter: 'full' };
 * ```
 */
export interface BackoffOptions {
  /**
   * Delay before the second attempt.
   * @defaultValue 200
   */
  initialDelayMs?: number;
  /**
   * Longest delay between attempts.
   * @defaultValue 30000
   */
  maxDelayMs?: number;
  /**
   * Growth factor per attempt.
   * @defaultValue 2
   */
  multiplier?: number;
  /**
   * `full`: a random delay from 0 to the computed one; `equal`: half fixed, half random; `none`: exact.
   * @defaultValue 'full'
   */
  jitter?: 'full' | 'equal' | 'none';
}

/**
 * How often and how patiently a subscription retries a failing handler before dead-lettering the event.
 *
 * @example
 * ```ts
 * bus.subscribe(TaskCreated, handler, { retry: { attempts: 8, backoff: { initialDelayMs: 500 } } });
 * bus.subscribe(TaskCreated, handler, { retry: { attempts: 3, backoff: (attempt) => attempt * 1_000 } });
 * ```
 */
export interface RetryOptions {
  /**
   * Total attempts, the first included. `1` means no retry.
   * @defaultValue 5
   */
  attempts?: number;
  /**
   * Backoff settings, or a function from the attempt that just failed (1-based) and its error to a delay in ms.
   * @defaultValue exponential with full jitter, 200 ms doubling up to 30 s
   */
  backoff?: BackoffOptions | ((attempt: number, error: Error) => number);
}

/**
 * A validated retry policy: how many attempts, and the pause after each failed one.
 *
 * @example
 * ```ts
 * const policy = resolveRetry('myRelay', { attempts: 10 });
 * if (attempt < policy.attempts) setTimeout(retry, policy.delayMs(attempt, error));
 * ```
 */
export interface RetryPolicy {
  /** Total attempts, the first included. */
  readonly attempts: number;
  /** The pause in milliseconds after `attempt` (1-based) failed with `error`. */
  delayMs(attempt: number, error: Error): number;
}

/**
 * Validates {@link RetryOptions} and returns the policy, so that every part of relaybus that retries (subscriptions,
 * the outbox relay, jobs) reads the same options the same way.
 *
 * `defaults` replaces the bus's defaults field by field (a caller's `{ backoff: { maxDelayMs } }` keeps the
 * default `initialDelayMs`), for components whose defaults differ, such as the outbox relay.
 *
 * @throws `InvalidOptionError` naming the option at fault (prefixed `retry.`).
 * @example
 * ```ts
 * const policy = resolveRetry('createOutboxRelay', options.retry, { attempts: 10, backoff: { initialDelayMs: 250 } });
 * ```
 */
export function resolveRetry(
  where: string,
  options: RetryOptions | undefined,
  defaults: RetryOptions = {},
): RetryPolicy {
  const attempts = options?.attempts ?? defaults.attempts ?? 5;
  if (!Number.isInteger(attempts) || attempts < 1) {
    throw new InvalidOptionError(where, 'retry.attempts', `must be an integer >= 1, got ${String(attempts)}`);
  }
  const given = options?.backoff;
  const fallback = defaults.backoff;
  const backoff =
    typeof given === 'function' || typeof fallback !== 'object'
      ? (given ?? fallback)
      : { ...fallback, ...given };
  if (typeof backoff === 'function') {
    return {
      attempts,
      delayMs: (attempt, error) => {
        const delay = backoff(attempt, error);
        return Number.isFinite(delay) && delay > 0 ? delay : 0;
      },
    };
  }
  const initial = backoff?.initialDelayMs ?? 200;
  const max = backoff?.maxDelayMs ?? 30_000;
  const multiplier = backoff?.multiplier ?? 2;
  const jitter = backoff?.jitter ?? 'full';
  checkNonNegative(where, 'retry.backoff.initialDelayMs', initial);
  checkNonNegative(where, 'retry.backoff.maxDelayMs', max);
  if (max < initial) {
    throw new InvalidOptionError(
      where,
      'retry.backoff.maxDelayMs',
      `(${max}) must be >= initialDelayMs (${initial})`,
    );
  }
  if (!Number.isFinite(multiplier) || multiplier < 1) {
    throw new InvalidOptionError(
      where,
      'retry.backoff.multiplier',
      `must be a number >= 1, got ${multiplier}`,
    );
  }
  if (jitter !== 'full' && jitter !== 'equal' && jitter !== 'none') {
    throw new InvalidOptionError(where, 'retry.backoff.jitter', `must be 'full', 'equal' or 'none'`);
  }
  return {
    attempts,
    delayMs: (attempt) => {
      const base = Math.min(max, initial * multiplier ** Math.max(0, attempt - 1));
      if (jitter === 'none') return base;
      if (jitter === 'equal') return base / 2 + Math.random() * (base / 2);
      return Math.random() * base;
    },
  };
}

function checkNonNegative(where: string, option: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) {
    throw new InvalidOptionError(where, option, `must be a finite number >= 0, got ${String(value)}`);
  }
}

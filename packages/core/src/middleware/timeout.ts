import { HandlerTimeoutError, InvalidOptionError } from '../errors';
import type { Middleware } from './middleware';

/**
 * Options for {@link timeout}.
 *
 * @example
 * ```ts
 * bus.use(timeout({ timeoutMs: 2_000 }));
 * ```
 */
export interface TimeoutOptions {
  /** Longest the rest of the consume chain (inner middleware and handler) may run, in milliseconds. */
  timeoutMs: number;
}

/**
 * Fails a consume attempt that runs longer than `timeoutMs`: aborts `ctx.signal` with a `HandlerTimeoutError` and
 * rejects with it, so the bus retries or dead-letters the event. Unlike the subscription's own `timeoutMs`
 * (checked by a shared timer), this uses a precise timer per event: add it where a tight limit matters.
 *
 * @throws {@link InvalidOptionError} when `timeoutMs` is not a positive number.
 * @example
 * ```ts
 * bus.use(timeout({ timeoutMs: 500 }));
 * bus.subscribe(TaskCreated, async (event, ctx) => {
 *   await fetch(url, { signal: ctx.signal }); // aborted after 500 ms
 * });
 * ```
 */
export function timeout(options: TimeoutOptions): Middleware {
  const ms = options?.timeoutMs;
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0) {
    throw new InvalidOptionError('timeout()', 'timeoutMs', `must be a number > 0, got ${String(ms)}`);
  }
  return {
    name: 'timeout',
    consume(ctx, next) {
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          const error = new HandlerTimeoutError(ctx.envelope.type, ms);
          ctx.abort(error);
          reject(error);
        }, ms);
        next().then(
          () => {
            clearTimeout(timer);
            resolve();
          },
          (error: unknown) => {
            clearTimeout(timer);
            reject(error);
          },
        );
      });
    },
  };
}

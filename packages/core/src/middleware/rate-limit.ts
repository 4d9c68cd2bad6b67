import { InvalidOptionError } from '../errors';
import type { Middleware } from './middleware';
import { checkCount, checkPositive } from './option-checks';
import { checkSide, type MiddlewareSide, sided } from './side';
import { TokenBucket } from './token-bucket';

/**
 * Options for {@link rateLimit}.
 *
 * @example
 * ```ts
 * bus.use(rateLimit({ perSecond: 50, burst: 10, side: 'consume' }));
 * ```
 */
export interface RateLimitOptions {
  /** Sustained rate, in events per second (fractions allowed: `0.5` is one event every two seconds). */
  perSecond: number;
  /**
   * Most events let through at once after a quiet period (the bucket's size).
   * @defaultValue `max(1, perSecond)`
   */
  burst?: number;
  /**
   * What is limited: handling (`'consume'`), publishing (`'publish'`), or both through one shared bucket.
   * @defaultValue 'consume'
   */
  side?: MiddlewareSide;
  /**
   * Most calls waiting for a token; beyond it a call fails at once with a `RATE_LIMITED` error instead of queueing
   * (a failed handling is retried by the bus with backoff).
   * @defaultValue Infinity
   */
  maxWaiting?: number;
}

const WHERE = 'rateLimit()';

/**
 * Limits how fast events are handled or published, with a token bucket shared by every subscription of the bus.
 * A call that finds no token waits for one, in arrival order. A waiting handler gives up when its `ctx.signal`
 * aborts (timeout, shutdown), rejecting with the abort reason. The limit is per process.
 *
 * @throws {@link InvalidOptionError} when `perSecond` or `burst` is not a positive number, `maxWaiting` is not an
 * integer >= 1, or `side` is unknown.
 * @example
 * ```ts
 * bus.use(rateLimit({ perSecond: 10 }));                    // at most 10 handled events per second
 * bus.use(rateLimit({ perSecond: 100, side: 'publish' }));  // smooth out a bursty producer
 * ```
 */
export function rateLimit(options: RateLimitOptions): Middleware {
  if (options?.perSecond === undefined) throw new InvalidOptionError(WHERE, 'perSecond', 'is required');
  const perSecond = checkPositive(WHERE, 'perSecond', options.perSecond, 0);
  const burst = checkPositive(WHERE, 'burst', options.burst, Math.max(1, perSecond));
  const maxWaiting = checkCount(WHERE, 'maxWaiting', options.maxWaiting, Number.POSITIVE_INFINITY, true);
  const side = checkSide(WHERE, options.side, 'consume');
  const bucket = new TokenBucket(perSecond, burst, maxWaiting);
  return sided('rateLimit', side, {
    publish: (_ctx, next) => (bucket.tryTake() ? next() : bucket.take().then(next)),
    consume: (ctx, next) => (bucket.tryTake() ? next() : bucket.take(ctx.signal).then(next)),
  });
}

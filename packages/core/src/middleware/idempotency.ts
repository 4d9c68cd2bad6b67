import { InvalidOptionError, RelaybusError } from '../errors';
import type { IdempotencyStore } from './idempotency-store';
import { memoryIdempotencyStore } from './memory-idempotency-store';
import type { ConsumeContext, Middleware } from './middleware';
import { checkFunction, checkPositive } from './option-checks';

/**
 * Options for {@link idempotency}.
 *
 * @example
 * ```ts
 * bus.use(idempotency({ store: redisIdempotencyStore(redis), ttlMs: 7 * 24 * 3_600_000 }));
 * ```
 */
export interface IdempotencyOptions {
  /**
   * Where handled keys are remembered. Share one store between processes that consume the same group.
   * @defaultValue a new `memoryIdempotencyStore()` (this process only)
   */
  store?: IdempotencyStore;
  /**
   * The deduplication key of a delivery.
   * @defaultValue `${ctx.subscription}:${ctx.envelope.id}`: each subscription handles each event once
   */
  key?: (ctx: ConsumeContext) => string;
  /**
   * How long a handled key is remembered, in milliseconds. Redeliveries later than this are handled again.
   * @defaultValue 86_400_000 (24 hours)
   */
  ttlMs?: number;
  /**
   * How long a key stays claimed while its handler runs, in milliseconds. A claim whose consumer crashed frees
   * itself after this; keep it above the subscription's `visibilityTimeoutMs`.
   * @defaultValue 60_000
   */
  claimTtlMs?: number;
}

const WHERE = 'idempotency()';

/**
 * Skips events already handled by this subscription, so that at-least-once delivery has at-most-once effects
 * within `ttlMs`. Before the handler runs, the delivery's key is claimed in the store: a key marked done skips the
 * handler (the event counts as handled); a key claimed by another delivery still running fails this attempt with
 * a `RelaybusError`, so the bus retries it later; a failed handler releases its claim so the retry can run; a
 * successful one marks the key done.
 *
 * The guarantee holds for the handler as a whole, not for its side effects one by one: a handler that crashes
 * after some effects runs again. Where effects must happen exactly once, write them in the same transaction as
 * the processed marker (the inbox of `@relaybus/outbox-pg`).
 *
 * @throws {@link InvalidOptionError} when an option is malformed.
 * @example
 * ```ts
 * bus.use(idempotency());
 * bus.subscribe(PaymentCaptured, sendReceipt, { group: 'receipts' }); // one receipt per event, even if redelivered
 * ```
 */
export function idempotency(options: IdempotencyOptions = {}): Middleware {
  const store = options.store ?? memoryIdempotencyStore();
  if (typeof store !== 'object' || store === null || typeof store.claim !== 'function') {
    throw new InvalidOptionError(
      WHERE,
      'store',
      'must implement IdempotencyStore (claim, complete, release)',
    );
  }
  checkFunction(WHERE, 'key', options.key);
  const keyOf = options.key ?? ((ctx: ConsumeContext) => `${ctx.subscription}:${ctx.envelope.id}`);
  const ttlMs = checkPositive(WHERE, 'ttlMs', options.ttlMs, 86_400_000);
  const claimTtlMs = checkPositive(WHERE, 'claimTtlMs', options.claimTtlMs, 60_000);

  return {
    name: 'idempotency',
    async consume(ctx, next) {
      const key = keyOf(ctx);
      const claim = await store.claim(key, claimTtlMs);
      const { id, type } = ctx.envelope;
      if (claim === 'done') {
        ctx.logger.debug('skipping an event this subscription already handled', {
          id,
          type,
          subscription: ctx.subscription,
          key,
        });
        return;
      }
      if (claim === 'busy') {
        throw new RelaybusError(
          'HANDLER_FAILED',
          `Event "${type}" ${id} is being handled by another delivery of subscription ${ctx.subscription} (idempotency key "${key}"); this attempt will be retried.`,
        );
      }
      try {
        await next();
      } catch (error) {
        try {
          await store.release(key);
        } catch (releaseError) {
          ctx.logger.warn(`could not release idempotency key; a retry waits up to ${claimTtlMs} ms for it`, {
            id,
            key,
            error: releaseError,
          });
        }
        throw error;
      }
      try {
        await store.complete(key, ttlMs);
      } catch (error) {
        // The handler succeeded: failing now would run it again. The claim expires, and only a redelivery after
        // that would repeat the work.
        ctx.logger.warn('could not mark an event handled in the idempotency store', { id, key, error });
      }
    },
  };
}

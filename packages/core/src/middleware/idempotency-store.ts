/**
 * The outcome of {@link IdempotencyStore.claim}: `'claimed'` (go ahead, the key is now held), `'done'` (already
 * handled: skip) or `'busy'` (another delivery holds the key right now: try again later).
 *
 * @example
 * ```ts
 * const outcome: IdempotencyClaim = await store.claim('billing:0190…', 60_000);
 * ```
 */
export type IdempotencyClaim = 'claimed' | 'done' | 'busy';

/**
 * Where the idempotency middleware remembers which events were handled. Implementations must make `claim`
 * atomic: of several concurrent claims of a free key, exactly one gets `'claimed'` (Redis `SET NX PX`, a Postgres
 * `INSERT ... ON CONFLICT` with an expiry column).
 *
 * @example
 * ```ts
 * const store: IdempotencyStore = {
 *   claim: async (key, ttlMs) => ((await redis.set(key, 'busy', 'PX', ttlMs, 'NX')) ? 'claimed' : (await redis.get(key)) === 'done' ? 'done' : 'busy'),
 *   complete: async (key, ttlMs) => void (await redis.set(key, 'done', 'PX', ttlMs)),
 *   release: async (key) => void (await redis.del(key)),
 * };
 * ```
 */
export interface IdempotencyStore {
  /**
   * Takes `key` for `ttlMs` milliseconds unless it is already taken (`'busy'`) or marked done (`'done'`). A claim
   * that is neither completed nor released expires after `ttlMs`, so a crashed consumer does not block the key.
   */
  claim(key: string, ttlMs: number): Promise<IdempotencyClaim>;
  /** Marks `key` as handled for `ttlMs` milliseconds. */
  complete(key: string, ttlMs: number): Promise<void>;
  /** Frees a claimed key so that a retry can handle the event. */
  release(key: string): Promise<void>;
}

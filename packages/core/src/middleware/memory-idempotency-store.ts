import type { IdempotencyClaim, IdempotencyStore } from './idempotency-store';
import { checkCount } from './option-checks';

/**
 * Options for {@link memoryIdempotencyStore}.
 *
 * @example
 * ```ts
 * memoryIdempotencyStore({ maxEntries: 50_000 });
 * ```
 */
export interface MemoryIdempotencyStoreOptions {
  /**
   * Most keys kept. When full, expired keys go first, then the oldest ones, so memory stays bounded even when
   * events arrive faster than their keys expire.
   * @defaultValue 100_000
   */
  maxEntries?: number;
}

interface Entry {
  state: 'busy' | 'done';
  expiresAt: number;
}

/**
 * An in-process {@link IdempotencyStore}: a map with per-key expiry and a size bound. It deduplicates within one
 * process only; use a shared store (Redis, Postgres) when several processes consume the same group.
 *
 * @throws {@link InvalidOptionError} when `maxEntries` is not an integer >= 1.
 * @example
 * ```ts
 * bus.use(idempotency({ store: memoryIdempotencyStore({ maxEntries: 10_000 }) }));
 * ```
 */
export function memoryIdempotencyStore(options: MemoryIdempotencyStoreOptions = {}): IdempotencyStore {
  const maxEntries = checkCount('memoryIdempotencyStore()', 'maxEntries', options.maxEntries, 100_000);
  // Insertion order is refresh order: set() after delete() moves a key to the end, so the first keys are the
  // least recently written.
  const entries = new Map<string, Entry>();

  const live = (key: string, now: number): Entry | undefined => {
    const entry = entries.get(key);
    if (entry !== undefined && entry.expiresAt <= now) {
      entries.delete(key);
      return undefined;
    }
    return entry;
  };

  // Drops the oldest entry, and any expired ones right behind it: amortised O(1), unlike a full sweep.
  const evict = (now: number): void => {
    let first = true;
    for (const [key, entry] of entries) {
      if (!first && entry.expiresAt > now) break;
      entries.delete(key);
      first = false;
    }
  };

  const write = (key: string, state: Entry['state'], ttlMs: number, now: number): void => {
    entries.delete(key);
    if (entries.size >= maxEntries) evict(now);
    entries.set(key, { state, expiresAt: now + ttlMs });
  };

  return {
    async claim(key, ttlMs): Promise<IdempotencyClaim> {
      const now = Date.now();
      const entry = live(key, now);
      if (entry !== undefined) return entry.state;
      write(key, 'busy', ttlMs, now);
      return 'claimed';
    },
    async complete(key, ttlMs) {
      write(key, 'done', ttlMs, Date.now());
    },
    async release(key) {
      if (entries.get(key)?.state === 'busy') entries.delete(key);
    },
  };
}

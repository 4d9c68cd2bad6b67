import type { Logger } from '@relaybus/core';
import type { Pool } from 'pg';
import { addressOf, storeFailure } from './failures';

interface Guard {
  readonly listener: (error: Error) => void;
  /** The loggers of the stores and relays using the pool; the oldest reports. */
  readonly loggers: Set<{ readonly logger: Logger }>;
}

const guards = new WeakMap<Pool, Guard>();

/**
 * Keeps a failing idle connection from crashing the process. `pg.Pool` re-emits an idle client's failure (a server
 * restart, a cut connection) as an `'error'` event on the pool, and an event emitter with no `'error'` listener
 * throws it as an uncaught exception. Stores and relays put one shared listener on their pool for as long as any of
 * them is open. It reports through their logger only when it is the pool's sole listener, so an application that
 * listens itself (as the README shows) sees each error once, through its own listener, and nothing is hidden. The
 * pool drops the failed connection and opens a new one when next needed; the store and relay carry on.
 *
 * @example
 * ```ts
 * const unguard = guardPoolErrors(pool, logger);
 * await store.close(); // calls unguard()
 * ```
 */
export function guardPoolErrors(pool: Pool, logger: Logger): () => void {
  let guard = guards.get(pool);
  if (guard === undefined) {
    const loggers = new Set<{ readonly logger: Logger }>();
    const listener = (error: Error): void => {
      if (pool.listenerCount('error') > 1) return;
      const [first] = loggers;
      first?.logger.warn(
        `postgres pool: an idle connection to ${addressOf(pool, error)} failed; the pool drops it and connects again when needed`,
        { error: storeFailure('idle connection', pool, error) },
      );
    };
    guard = { listener, loggers };
    guards.set(pool, guard);
    pool.on('error', listener);
  }
  const holder = { logger };
  guard.loggers.add(holder);
  const current = guard;
  return () => {
    current.loggers.delete(holder);
    if (current.loggers.size > 0 || guards.get(pool) !== current) return;
    guards.delete(pool);
    pool.off('error', current.listener);
  };
}

import type { Logger } from '@relaybus/core';
import type { Pool } from 'pg';

/** Waits, for many appends at once, until their rows are readable in the global feed. */
export interface VisibilityWatcher {
  /**
   * Resolves once every transaction older than `txId` has ended (the global feed reads below the oldest
   * transaction in flight), or after `timeoutMs`; never rejects.
   */
  wait(txId: string, timeoutMs: number): Promise<void>;
  /** Resolves every wait at once and stops polling. */
  close(): void;
}

interface Waiter {
  readonly txId: bigint;
  readonly deadline: number;
  readonly resolve: () => void;
}

const FIRST_PAUSE_MS = 1;
const MAX_PAUSE_MS = 50;

/**
 * One poller for every append of a store that must wait for visibility: it reads the oldest transaction in flight
 * once per round and releases every append below it, so a burst of concurrent appends costs a few queries, not a
 * query (and a held connection) each. Rounds start at once, then back off from 1 ms to 50 ms; a new wait brings
 * the next round forward. Transaction ids are compared as `bigint`, never as JS numbers.
 *
 * @example
 * ```ts
 * const watcher = createVisibilityWatcher(pool, logger);
 * await watcher.wait(committed.txId, 1_000);
 * ```
 */
export function createVisibilityWatcher(pool: Pool, logger: Logger): VisibilityWatcher {
  const waiters = new Set<Waiter>();
  let polling = false;
  let pauseMs = FIRST_PAUSE_MS;
  let wake: (() => void) | undefined;

  async function oldestInFlight(): Promise<bigint | undefined> {
    try {
      const { rows } = await pool.query<{ xmin: string }>(
        'SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin',
      );
      const xmin = rows[0]?.xmin;
      return xmin === undefined ? undefined : BigInt(xmin);
    } catch (error) {
      logger.warn('postgres event store: checking whether appends are readable failed; retrying', { error });
      return undefined;
    }
  }

  function pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(finish, ms);
      function finish(): void {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = finish;
    });
  }

  async function poll(): Promise<void> {
    polling = true;
    try {
      while (waiters.size > 0) {
        const xmin = await oldestInFlight();
        const now = Date.now();
        let nextDeadline = Number.POSITIVE_INFINITY;
        for (const waiter of waiters) {
          if ((xmin !== undefined && waiter.txId < xmin) || now >= waiter.deadline) {
            waiters.delete(waiter);
            waiter.resolve();
          } else {
            nextDeadline = Math.min(nextDeadline, waiter.deadline);
          }
        }
        if (waiters.size === 0) break;
        await pause(Math.max(0, Math.min(pauseMs, nextDeadline - Date.now())));
        pauseMs = Math.min(pauseMs * 2, MAX_PAUSE_MS);
      }
    } finally {
      polling = false;
      pauseMs = FIRST_PAUSE_MS;
    }
  }

  return {
    wait(txId, timeoutMs) {
      return new Promise<void>((resolve) => {
        waiters.add({ txId: BigInt(txId), deadline: Date.now() + timeoutMs, resolve });
        if (!polling) {
          void poll();
        } else if (pauseMs > FIRST_PAUSE_MS) {
          // A new wait should not sit out a long back-off that older waits earned.
          pauseMs = FIRST_PAUSE_MS;
          wake?.();
        }
      });
    },
    close() {
      for (const waiter of waiters) waiter.resolve();
      waiters.clear();
      wake?.();
    },
  };
}

import type { Logger } from '@relaybus/core';
import type { Pool } from 'pg';

/** Sends the NOTIFY for appends the store committed in transactions of its own. */
export interface Notifier {
  /** An append committed: notify soon, together with every other commit until the notification goes out. */
  committed(): void;
  /** Waits for the notification in flight. */
  close(): Promise<void>;
}

/**
 * Notifies `channel` after commits rather than inside each appending transaction: `NOTIFY` takes a cluster-wide
 * lock at commit, which would serialise concurrent appends. At most one notification is in flight; every commit
 * while it is joins the next one, so a burst of appends costs a few notifications, not one each. Notifications
 * are hints (listeners also poll), so a failed one is logged and dropped.
 *
 * @example
 * ```ts
 * const notifier = createNotifier(pool, notifyChannel(schema), logger);
 * await appendInOwnTransaction(client, sql, plan, { visibilityWaitMs, onCommitted: () => notifier.committed() });
 * ```
 */
export function createNotifier(pool: Pool, channel: string, logger: Logger): Notifier {
  let sending: Promise<void> | undefined;
  let again = false;

  async function send(): Promise<void> {
    do {
      again = false;
      try {
        await pool.query('SELECT pg_notify($1, $2)', [channel, '']);
      } catch (error) {
        logger.warn('postgres event store: NOTIFY after an append failed; listeners will poll', { error });
      }
    } while (again);
  }

  return {
    committed() {
      if (sending !== undefined) {
        again = true;
        return;
      }
      sending = send().finally(() => {
        sending = undefined;
      });
    },
    async close() {
      await sending;
    },
  };
}

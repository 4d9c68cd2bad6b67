import { InvalidOptionError } from '@relaybus/core';
import type { ClientBase, Pool } from 'pg';
import { guarded } from './failures';
import { checkIdentifier, tablesOf } from './identifiers';
import { DEFAULTS } from './options';
import { run } from './sql/query';
import { inTransaction } from './sql/transaction';

/**
 * Options of {@link createInbox}.
 *
 * @example
 * ```ts
 * const inbox = createInbox({ pool, schema: 'relaybus' });
 * ```
 */
export interface InboxOptions {
  /** The `pg` pool used by `handle` and `prune`. The inbox never ends it. */
  pool: Pool;
  /**
   * The schema {@link migrate} created the tables in.
   * @defaultValue 'relaybus'
   */
  schema?: string;
}

/**
 * What {@link Inbox.handleOnce} did: ran the handler (`duplicate: false`, with its result) or skipped a message
 * the consumer already processed.
 *
 * @example
 * ```ts
 * const outcome = await inbox.handle('mailer', event, send);
 * if (outcome.duplicate) log.info('already sent');
 * ```
 */
export type InboxOutcome<T> =
  | { readonly duplicate: true }
  | { readonly duplicate: false; readonly result: T };

/**
 * An inbox: exactly-once effects over at-least-once delivery, by committing the handler's writes together with a
 * `(consumer, message id)` marker.
 *
 * @example
 * ```ts
 * await inbox.handle('projector', event, (client) => client.query('UPDATE ...'));
 * ```
 */
export interface Inbox {
  /**
   * Inside the caller's transaction (`client` in `BEGIN`): records the message for `consumer` and runs `fn`, or
   * skips it when the consumer already processed it. The caller commits; a rollback forgets the marker too.
   */
  handleOnce<T>(
    client: ClientBase,
    consumer: string,
    messageId: string,
    fn: (client: ClientBase) => Promise<T>,
  ): Promise<InboxOutcome<T>>;
  /** Like `handleOnce`, in a transaction of its own on a pooled connection (committed, or rolled back on error). */
  handle<T>(
    consumer: string,
    event: { readonly id: string },
    fn: (client: ClientBase) => Promise<T>,
  ): Promise<InboxOutcome<T>>;
  /**
   * Deletes markers older than `olderThanMs`, `batchSize` rows per statement (short locks). Keep markers at
   * least as long as the broker may redeliver plus any replay window. Returns how many were deleted.
   */
  prune(options: { readonly olderThanMs: number; readonly batchSize?: number }): Promise<number>;
}

/**
 * Creates an inbox over the `inbox` table. A message id processed by a consumer is recorded in the same
 * transaction as the consumer's writes (`INSERT ... ON CONFLICT DO NOTHING`), so effects happen exactly once
 * however often the message is delivered. Concurrent deliveries of one message wait on the marker's row lock, and
 * the second sees a duplicate once the first commits.
 *
 * @throws `InvalidOptionError` for a malformed schema name (at once).
 * @example
 * ```ts
 * const inbox = createInbox({ pool });
 * await bus.subscribe(TaskCompleted, async (event) => {
 *   await inbox.handle('stats', event, (client) =>
 *     client.query('UPDATE counters SET done = done + 1 WHERE id = $1', [event.data.projectId]),
 *   );
 * });
 * ```
 */
export function createInbox(options: InboxOptions): Inbox {
  const where = 'createInbox()';
  const schema = checkIdentifier(where, 'schema', options.schema ?? DEFAULTS.schema);
  const { pool } = options;
  const t = tablesOf(schema);
  const mark = {
    label: 'inbox: record a message',
    privilege: `INSERT on ${t.inbox}`,
    text: `INSERT INTO ${t.inbox} (consumer, message_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1 AS inserted`,
  };
  const pruneBatch = {
    label: 'inbox: prune',
    privilege: `SELECT, DELETE on ${t.inbox}`,
    text: `DELETE FROM ${t.inbox} WHERE ctid = ANY(ARRAY(
        SELECT ctid FROM ${t.inbox}
        WHERE processed_at < now() - $1::bigint * interval '1 millisecond' LIMIT $2
      )) RETURNING 1`,
  };

  async function handleOnce<T>(
    client: ClientBase,
    consumer: string,
    messageId: string,
    fn: (client: ClientBase) => Promise<T>,
  ): Promise<InboxOutcome<T>> {
    if (typeof consumer !== 'string' || consumer === '') {
      throw new InvalidOptionError('inbox.handleOnce()', 'consumer', 'must be a non-empty string');
    }
    if (typeof messageId !== 'string' || messageId === '') {
      throw new InvalidOptionError('inbox.handleOnce()', 'messageId', 'must be a non-empty string');
    }
    // The handler's own failures reach the caller unchanged; only the marker's statement is relaybus's.
    const inserted = await guarded('inbox.handleOnce', client, () =>
      run(client, mark, [consumer, messageId]),
    );
    if (inserted.length === 0) return { duplicate: true };
    return { duplicate: false, result: await fn(client) };
  }

  return {
    handleOnce,
    handle(consumer, event, fn) {
      return inTransaction(pool, (client) => handleOnce(client, consumer, event.id, fn));
    },
    async prune({ olderThanMs, batchSize = 1_000 }) {
      if (!Number.isInteger(olderThanMs) || olderThanMs < 0) {
        throw new InvalidOptionError(
          'inbox.prune()',
          'olderThanMs',
          `must be an integer >= 0, got ${olderThanMs}`,
        );
      }
      let total = 0;
      for (;;) {
        const deleted = await guarded('inbox.prune', pool, () =>
          run(pool, pruneBatch, [olderThanMs, batchSize]),
        );
        total += deleted.length;
        if (deleted.length < batchSize) return total;
      }
    },
  };
}

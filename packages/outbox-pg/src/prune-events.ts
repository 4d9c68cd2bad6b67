import { InvalidOptionError } from '@relaybus/core';
import type { Pool } from 'pg';
import { guarded } from './failures';
import { checkIdentifier, tablesOf } from './identifiers';
import { DEFAULTS } from './options';
import { run } from './sql/query';

/**
 * Options of {@link pruneEvents}.
 *
 * @example
 * ```ts
 * await pruneEvents({ pool, relay: 'default', olderThanMs: 7 * 86_400_000 });
 * ```
 */
export interface PruneEventsOptions {
  /** The `pg` pool to delete through. */
  pool: Pool;
  /**
   * The schema {@link migrate} created the tables in.
   * @defaultValue 'relaybus'
   */
  schema?: string;
  /** The relay name (or relay) whose checkpoints bound what may go: only events every partition has passed. */
  relay: string | { readonly name: string };
  /**
   * Keep events younger than this, even when published.
   * @defaultValue 0 (every published event may go)
   */
  olderThanMs?: number;
  /**
   * Rows per DELETE statement: small batches keep locks and WAL bursts short.
   * @defaultValue 1000
   */
  batchSize?: number;
}

/**
 * Retention for outbox-only use: deletes events the relay has published in every partition (and older than
 * `olderThanMs`), in small batches, keeping events the relay parked until they are redriven or purged. Pruned
 * events are gone for good: `readAll`, `readStream`, replays and
 * projections can no longer see them, so do not prune a log that is also your event store. Stream versions are
 * kept, so appends carry on with the right versions. Returns how many events were deleted.
 *
 * @throws `InvalidOptionError` for malformed options.
 * @example
 * ```ts
 * setInterval(() => void pruneEvents({ pool, relay, olderThanMs: 86_400_000 }), 3_600_000);
 * ```
 */
export async function pruneEvents(options: PruneEventsOptions): Promise<number> {
  const where = 'pruneEvents()';
  const schema = checkIdentifier(where, 'schema', options.schema ?? DEFAULTS.schema);
  const relay = typeof options.relay === 'string' ? options.relay : options.relay?.name;
  if (typeof relay !== 'string' || relay === '') {
    throw new InvalidOptionError(where, 'relay', 'must be a relay name or a relay');
  }
  const olderThanMs = options.olderThanMs ?? 0;
  const batchSize = options.batchSize ?? 1_000;
  if (!Number.isInteger(olderThanMs) || olderThanMs < 0) {
    throw new InvalidOptionError(where, 'olderThanMs', `must be an integer >= 0, got ${olderThanMs}`);
  }
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new InvalidOptionError(where, 'batchSize', `must be an integer >= 1, got ${batchSize}`);
  }
  const t = tablesOf(schema);
  const statement = {
    label: 'pruneEvents',
    privilege: `SELECT on ${t.relayLeases}, ${t.relayDeadLetters}; SELECT, DELETE on ${t.events}`,
    // Per partition, only rows at or before its checkpoint; a partition without one keeps everything.
    text: `WITH l AS (
        SELECT partition, split_part(position, '.', 1)::integer AS p_epoch,
          split_part(position, '.', 2)::numeric::text::xid8 AS p_tx, split_part(position, '.', 3)::bigint AS p_id
        FROM ${t.relayLeases} WHERE relay = $1 AND partition >= 0 AND position IS NOT NULL
      ), doomed AS (
        SELECT e.epoch, e.tx_id, e.id FROM l CROSS JOIN LATERAL (
          SELECT e.epoch, e.tx_id, e.id FROM ${t.events} e
          WHERE e.partition = l.partition AND (e.epoch, e.tx_id, e.id) <= (l.p_epoch, l.p_tx, l.p_id)
            AND e.created_at < now() - $2::bigint * interval '1 millisecond'
            AND NOT EXISTS (
              SELECT 1 FROM ${t.relayDeadLetters} d
              WHERE d.relay = $1 AND d.event_id = e.event_id AND d.redriven_at IS NULL
            )
          ORDER BY e.epoch, e.tx_id, e.id LIMIT $3
        ) e LIMIT $3
      )
      DELETE FROM ${t.events} e USING doomed d
      WHERE (e.epoch, e.tx_id, e.id) = (d.epoch, d.tx_id, d.id)
      RETURNING 1`,
  };
  let total = 0;
  for (;;) {
    const deleted = await guarded('pruneEvents', options.pool, () =>
      run(options.pool, statement, [relay, olderThanMs, batchSize]),
    );
    const count = deleted.length;
    total += count;
    if (count === 0) return total;
  }
}

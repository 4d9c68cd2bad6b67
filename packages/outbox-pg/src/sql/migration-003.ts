import type { Tables } from '../identifiers';

/**
 * Migration 3: the global read as a function whose plan does not depend on table statistics, and the error history
 * of parked events.
 *
 * `read_page(after epoch, after tx, after id, limit, current epoch, types)` returns the page of the global feed
 * after a position: rows below the oldest transaction in flight, in `(epoch, tx_id, id)` order, keeping only `types`
 * when not null, and then (for a type-filtered page) the visible head as one row with `is_head`. It runs with
 * sequential scans, bitmap scans and sorts disabled, so Postgres reads the page with an ordered index range scan
 * even when the table has no statistics yet (freshly loaded, never analyzed) or stale ones. Left to estimates, it
 * picks a bitmap scan of everything after the position plus a sort, for every page: replay becomes quadratic.
 * The function is `STABLE`, so every statement in it reads the caller's snapshot: the page and the head agree.
 *
 * `relay_dead_letters.previous_errors` keeps the errors of earlier attempts of a parked event (a redrive that
 * failed again), oldest first; `error` stays the latest.
 *
 * @example
 * ```ts
 * for (const sql of migration003(tablesOf('relaybus'))) await client.query(sql);
 * ```
 */
export function migration003(t: Tables): string[] {
  const range = `(e.epoch, e.tx_id, e.id) > (p_epoch, p_tx, p_id) AND (e.epoch, e.tx_id) < (p_current, v_xmin)`;
  const columns = `false, e.epoch, e.tx_id::text, e.id::text, e.stream, e.stream_version::text, e.envelope::text`;
  const page = (filter: string): string =>
    `RETURN QUERY SELECT ${columns} FROM ${t.events} e
        WHERE ${range}${filter} ORDER BY e.epoch, e.tx_id, e.id LIMIT p_limit;`;
  return [
    `ALTER TABLE ${t.relayDeadLetters} ADD COLUMN previous_errors jsonb NOT NULL DEFAULT '[]'::jsonb`,
    `CREATE FUNCTION ${t.readPage}(
      p_epoch integer, p_tx xid8, p_id bigint, p_limit integer, p_current integer, p_types text[]
    ) RETURNS TABLE (
      is_head boolean, epoch integer, tx_id text, id text, stream text, stream_version text, envelope text
    )
    LANGUAGE plpgsql STABLE
    SET enable_seqscan = off SET enable_bitmapscan = off SET enable_sort = off
    AS $fn$
    #variable_conflict use_column
    DECLARE
      v_xmin xid8 := pg_snapshot_xmin(pg_current_snapshot());
    BEGIN
      IF p_types IS NULL THEN
        ${page('')}
        RETURN;
      END IF;
      -- One type: its own index (type, epoch, tx_id, id) is in global order; several: filter the global order.
      IF cardinality(p_types) = 1 THEN
        ${page(' AND e.type = p_types[1]')}
      ELSE
        ${page(' AND e.type = ANY(p_types)')}
      END IF;
      RETURN QUERY SELECT true, h.epoch, h.tx_id::text, h.id::text, NULL::text, NULL::text, NULL::text
        FROM (
          SELECT e.epoch, e.tx_id, e.id FROM ${t.events} e WHERE ${range}
          ORDER BY e.epoch DESC, e.tx_id DESC, e.id DESC LIMIT 1
        ) h;
    END
    $fn$`,
  ];
}

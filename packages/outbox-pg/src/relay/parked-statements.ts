import type { Tables } from '../identifiers';
import { EVENT_COLUMNS } from '../sql/event-columns';
import type { Statement } from '../sql/query';

/**
 * The statements of the parked-events API. `$1`-`$6` select dead letters in every one of them: relay, event ids or
 * null, stream or null, type or null, partition or null, state (`'parked'`, `'redriven'` or `'all'`).
 *
 * @example
 * ```ts
 * const sql = parkedStatements(tablesOf('relaybus'));
 * ```
 */
export interface ParkedStatements {
  /** `[...filter, after id, limit]` → rows in parking order, each with its event's columns (null once pruned). */
  readonly list: Statement;
  /** `[...filter, after position, limit]` → rows in log order, for a redrive. */
  readonly redrivePage: Statement;
  /** `[relay, event ids]`: marks them redriven now. */
  readonly markRedriven: Statement;
  /** `[relay, event id, error json]`: a redrive failed as poison: the event stays parked with the new error. */
  readonly parkAgain: Statement;
  /** `[...filter]` → one row per deleted dead letter. */
  readonly purge: Statement;
}

/**
 * Builds the {@link ParkedStatements} of a schema.
 *
 * @example
 * ```ts
 * const sql = parkedStatements(tables);
 * ```
 */
export function parkedStatements(t: Tables): ParkedStatements {
  const privilege = `SELECT, UPDATE, DELETE on ${t.relayDeadLetters}; SELECT on ${t.events}`;
  const iso = (column: string): string =>
    `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
  const matches = `d.relay = $1 AND ($2::text[] IS NULL OR d.event_id = ANY($2::text[]))
    AND ($3::text IS NULL OR d.stream = $3) AND ($4::text IS NULL OR d.type = $4)
    AND ($5::integer IS NULL OR d.partition = $5)
    AND ($6::text = 'all' OR ($6::text = 'parked') = (d.redriven_at IS NULL))`;
  const select = `SELECT d.id::text AS dl_id, d.event_id, d.partition, d.position AS dl_position,
      d.stream AS dl_stream, d.type, d.key, d.attempts, d.error::text AS error,
      d.previous_errors::text AS previous_errors, ${iso('d.parked_at')} AS parked_at,
      ${iso('d.redriven_at')} AS redriven_at, ${EVENT_COLUMNS}
    FROM ${t.relayDeadLetters} d LEFT JOIN ${t.events} e ON e.event_id = d.event_id
    WHERE ${matches}`;
  return {
    list: {
      label: 'relay: list parked events',
      privilege,
      text: `${select} AND d.id > $7::bigint ORDER BY d.id LIMIT $8`,
    },
    // Positions are fixed-width digits: byte order ("C") is their order whatever the database collation.
    redrivePage: {
      label: 'relay: read parked events to redrive',
      privilege,
      text: `${select} AND d.position COLLATE "C" > $7::text ORDER BY d.position COLLATE "C" LIMIT $8`,
    },
    markRedriven: {
      label: 'relay: mark parked events redriven',
      privilege,
      text: `UPDATE ${t.relayDeadLetters} SET redriven_at = now() WHERE relay = $1 AND event_id = ANY($2::text[])`,
    },
    parkAgain: {
      label: 'relay: park a redriven event again',
      privilege,
      text: `UPDATE ${t.relayDeadLetters}
        SET previous_errors = previous_errors || jsonb_build_array(error), error = $3::jsonb,
          attempts = attempts + 1, parked_at = now(), redriven_at = NULL
        WHERE relay = $1 AND event_id = $2`,
    },
    purge: {
      label: 'relay: purge parked events',
      privilege,
      text: `DELETE FROM ${t.relayDeadLetters} d WHERE ${matches} RETURNING d.id`,
    },
  };
}

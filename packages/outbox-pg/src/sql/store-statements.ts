import type { Tables } from '../identifiers';
import { EVENT_COLUMNS } from './event-columns';
import type { Statement } from './query';

/**
 * Every statement the event store sends, built once per store from its schema's table names. Ordering keys
 * (`xid8`, `bigint`) are always selected as text so they never pass through a JS number.
 *
 * @example
 * ```ts
 * const sql = storeStatements(tablesOf('relaybus'));
 * ```
 */
export interface StoreStatements {
  /** `[]` → `{ version }`: the newest applied migration. */
  readonly schemaVersion: Statement;
  /** `[]` → `{ partitions, epoch, restored }`. */
  readonly meta: Statement;
  /**
   * `[stream, expected code, envelopes json, partitions, lock class, lock key, channel or null]` → the rows of
   * `append_events()` (see migration 2): the whole append in one statement, notifying `channel` in its transaction.
   */
  readonly append: Statement;
  /** `[event ids]` → stored rows of those ids. */
  readonly findEvents: Statement;
  /** `[stream]` → `{ version }`. */
  readonly streamVersion: Statement;
  /** `[stream, from version, limit]` → rows in version order. */
  readonly readStream: Statement;
  /**
   * `[after epoch, after tx, after id, limit, current epoch, types or null]` → a page of the global log and, for
   * filtered pages, the visible head (`is_head`): the `read_page()` function of migration 3.
   */
  readonly page: Statement;
  /** `[current epoch]` → the newest visible row's ordering key. */
  readonly head: Statement;
}

/**
 * Builds the {@link StoreStatements} of a schema.
 *
 * @example
 * ```ts
 * const sql = storeStatements(tablesOf('relaybus'));
 * ```
 */
export function storeStatements(t: Tables): StoreStatements {
  const read = `SELECT on ${t.events}`;
  const write = `SELECT, INSERT on ${t.events}; SELECT, INSERT, UPDATE on ${t.streams}; SELECT on ${t.meta}`;
  return {
    schemaVersion: {
      label: 'check the schema version',
      privilege: `USAGE on schema ${t.schema}; SELECT on ${t.migrations}`,
      text: `SELECT max(version) AS version FROM ${t.migrations}`,
    },
    meta: {
      label: 'read the schema settings',
      privilege: `SELECT on ${t.meta} and ${t.events}`,
      text: `SELECT m.partitions, m.epoch, EXISTS (
          SELECT 1 FROM ${t.events} e
          WHERE (e.epoch, e.tx_id) >= (m.epoch, pg_snapshot_xmax(pg_current_snapshot()))
        ) AS restored
        FROM ${t.meta} m`,
    },
    append: {
      label: 'append',
      privilege: `EXECUTE on ${t.appendEvents}; ${write}`,
      text: `SELECT * FROM ${t.appendEvents}($1, $2::bigint, $3::jsonb, $4::integer[], $5::integer, $6::integer, $7::text)`,
    },
    findEvents: {
      label: 'append: look up event ids',
      privilege: read,
      text: `SELECT e.event_id, ${EVENT_COLUMNS} FROM ${t.events} e WHERE e.event_id = ANY($1::text[])`,
    },
    streamVersion: {
      label: 'streamVersion',
      privilege: `SELECT on ${t.streams}`,
      text: `SELECT version::text AS version FROM ${t.streams} WHERE stream = $1`,
    },
    readStream: {
      label: 'readStream',
      privilege: read,
      text: `SELECT ${EVENT_COLUMNS} FROM ${t.events} e
        WHERE e.stream = $1 AND e.stream_version >= $2::bigint
        ORDER BY e.stream_version LIMIT $3`,
    },
    page: {
      label: 'readPage',
      privilege: `EXECUTE on ${t.readPage}; ${read}`,
      text: `SELECT * FROM ${t.readPage}($1::integer, $2::xid8, $3::bigint, $4::integer, $5::integer, $6::text[])`,
    },
    head: {
      label: 'headPosition',
      privilege: read,
      text: `SELECT e.epoch, e.tx_id::text AS tx_id, e.id::text AS id FROM ${t.events} e
        WHERE (e.epoch, e.tx_id) < ($1::integer, pg_snapshot_xmin(pg_current_snapshot()))
        ORDER BY e.epoch DESC, e.tx_id DESC, e.id DESC LIMIT 1`,
    },
  };
}

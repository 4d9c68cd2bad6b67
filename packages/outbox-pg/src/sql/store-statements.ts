import type { Tables } from '../identifiers';
import type { PageStatements } from './page-statements';
import { EVENT_COLUMNS, pageStatements } from './page-statements';
import type { Statement } from './query';

/**
 * Every statement the event store sends, built once per store from its schema's table names. Ordering keys
 * (`xid8`, `bigint`) are always selected as text so they never pass through a JS number.
 *
 * @example
 * ```ts
 * const sql = storeStatements(tablesOf('relaybus'), 'relaybus_relaybus');
 * ```
 */
export interface StoreStatements {
  /** `[]` → `{ version }`: the newest applied migration. */
  readonly schemaVersion: Statement;
  /** `[]` → `{ partitions, epoch, restored }`. */
  readonly meta: Statement;
  /** `[stream]` → `{ version, in_order }`, locking the stream's row. */
  readonly lockStream: Statement;
  /** `[stream, base version, envelopes json, partitions]` → inserted rows; bumps the stream row. */
  readonly appendToStream: Statement;
  /** `[stream, envelopes json, partitions]` → inserted rows, or none when the stream appeared meanwhile. */
  readonly createStream: Statement;
  /** `[event ids]` → stored rows of those ids. */
  readonly findEvents: Statement;
  /** `[stream]` → `{ version }`. */
  readonly streamVersion: Statement;
  /** `[stream, from version, limit]` → rows in version order. */
  readonly readStream: Statement;
  /** Pages of the global log (see `pageStatements`). */
  readonly page: PageStatements;
  /** `[current epoch]` → the newest visible row's ordering key. */
  readonly head: Statement;
}

/**
 * Builds the {@link StoreStatements} of a schema. With `channel`, appends NOTIFY it in their transaction.
 *
 * @example
 * ```ts
 * const sql = storeStatements(tables, notify ? notifyChannel(schema) : undefined);
 * ```
 */
export function storeStatements(t: Tables, channel: string | undefined): StoreStatements {
  const read = `SELECT on ${t.events}`;
  const write = `SELECT, INSERT on ${t.events}; SELECT, INSERT, UPDATE on ${t.streams}; SELECT on ${t.meta}`;
  // The channel passed validation as an identifier (lowercase letters, digits, underscores): safe as a literal.
  const notify = channel === undefined ? '' : `, pg_notify('${channel}', '')`;
  const input = (json: number, partitions: number): string => `input AS (
      SELECT t.envelope, t.partition, t.ord
      FROM ROWS FROM (jsonb_array_elements($${json}::jsonb), unnest($${partitions}::integer[]))
        WITH ORDINALITY AS t(envelope, partition, ord)
    ), current_epoch AS (SELECT epoch FROM ${t.meta})`;
  const insert = (stream: string, base: string, filter: string): string => `INSERT INTO ${t.events}
      (epoch, event_id, stream, stream_version, type, version, key, partition, envelope)
    SELECT (SELECT epoch FROM current_epoch), i.envelope->>'id', ${stream}, ${base} + i.ord,
      i.envelope->>'type', (i.envelope->>'version')::integer, i.envelope->>'key', i.partition, i.envelope
    FROM input i ${filter} ORDER BY i.ord
    RETURNING epoch, tx_id::text AS tx_id, id::text AS id, stream_version::text AS stream_version`;

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
    lockStream: {
      label: 'append: lock the stream',
      privilege: `SELECT, UPDATE on ${t.streams}; SELECT on ${t.meta}`,
      text: `SELECT s.version::text AS version,
          (s.last_epoch, s.last_tx_id) <= ((SELECT epoch FROM ${t.meta}), pg_current_xact_id()) AS in_order
        FROM ${t.streams} s WHERE s.stream = $1 FOR UPDATE OF s`,
    },
    appendToStream: {
      label: 'append: insert events',
      privilege: write,
      text: `WITH ${input(3, 4)},
        inserted AS (${insert('$1', '$2::bigint', '')}),
        bumped AS (
          UPDATE ${t.streams} SET version = $2::bigint + (SELECT count(*) FROM input),
            last_epoch = (SELECT epoch FROM current_epoch), last_tx_id = pg_current_xact_id()
          WHERE stream = $1
          RETURNING stream${notify}
        )
        SELECT * FROM inserted ORDER BY stream_version::bigint`,
    },
    createStream: {
      label: 'append: create the stream',
      privilege: write,
      text: `WITH ${input(2, 3)},
        created AS (
          INSERT INTO ${t.streams} (stream, version, last_epoch, last_tx_id)
          VALUES ($1, (SELECT count(*) FROM input), (SELECT epoch FROM current_epoch), pg_current_xact_id())
          ON CONFLICT (stream) DO NOTHING
          RETURNING stream${notify}
        ),
        inserted AS (${insert('$1', '0', 'WHERE EXISTS (SELECT 1 FROM created)')})
        SELECT * FROM inserted ORDER BY stream_version::bigint`,
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
    page: pageStatements(t.events),
    head: {
      label: 'headPosition',
      privilege: read,
      text: `SELECT e.epoch, e.tx_id::text AS tx_id, e.id::text AS id FROM ${t.events} e
        WHERE (e.epoch, e.tx_id) < ($1::integer, pg_snapshot_xmin(pg_current_snapshot()))
        ORDER BY e.epoch DESC, e.tx_id DESC, e.id DESC LIMIT 1`,
    },
  };
}

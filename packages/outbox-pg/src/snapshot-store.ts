import type { Snapshot, SnapshotStore } from '@relaybus/core';
import { guarded } from './failures';
import { checkIdentifier, tablesOf } from './identifiers';
import { DEFAULTS } from './options';
import type { Queryable } from './sql/query';
import { run } from './sql/query';

/**
 * Options of {@link postgresSnapshotStore}.
 *
 * @example
 * ```ts
 * const options: PostgresSnapshotStoreOptions = { pool, schema: 'relaybus' };
 * ```
 */
export interface PostgresSnapshotStoreOptions {
  /** Where to run the statements: a pool, or a client inside a transaction of yours. */
  pool: Queryable;
  /**
   * The schema {@link migrate} created the tables in.
   * @defaultValue 'relaybus'
   */
  schema?: string;
}

interface SnapshotRow {
  readonly stream: string;
  readonly stream_version: string;
  readonly schema_version: number;
  readonly state: string;
  readonly taken_at: string;
}

/**
 * Aggregate snapshots in the `snapshots` table: the newest per stream, its state as `jsonb`. A save never
 * replaces a snapshot of a later stream version, so a slow writer cannot roll a snapshot back.
 *
 * @throws `InvalidOptionError` for a malformed schema name (at once).
 * @example
 * ```ts
 * const snapshots = postgresSnapshotStore({ pool });
 * const task = await loadAggregate(store, Task, 'task-1', { snapshots });
 * ```
 */
export function postgresSnapshotStore(options: PostgresSnapshotStoreOptions): SnapshotStore {
  const schema = checkIdentifier('postgresSnapshotStore()', 'schema', options.schema ?? DEFAULTS.schema);
  const table = tablesOf(schema).snapshots;
  const db = options.pool;
  return {
    load: (stream) =>
      guarded('snapshots.load', db, async () => {
        const [row] = await run<SnapshotRow>(
          db,
          {
            label: 'load snapshot',
            privilege: `SELECT on ${table}`,
            text: `SELECT stream, stream_version::text AS stream_version, schema_version, state::text AS state,
              to_char(taken_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS taken_at
            FROM ${table} WHERE stream = $1`,
          },
          [stream],
        );
        if (row === undefined) return undefined;
        return {
          stream: row.stream,
          streamVersion: Number(row.stream_version),
          schemaVersion: row.schema_version,
          state: JSON.parse(row.state) as unknown,
          takenAt: row.taken_at,
        };
      }),
    save: (snapshot: Snapshot) =>
      guarded('snapshots.save', db, async () => {
        await run(
          db,
          {
            label: 'save snapshot',
            privilege: `INSERT, UPDATE on ${table}`,
            text: `INSERT INTO ${table} AS s (stream, stream_version, schema_version, state, taken_at)
            VALUES ($1, $2, $3, $4::jsonb, $5)
            ON CONFLICT (stream) DO UPDATE SET stream_version = EXCLUDED.stream_version,
              schema_version = EXCLUDED.schema_version, state = EXCLUDED.state, taken_at = EXCLUDED.taken_at
            WHERE s.stream_version <= EXCLUDED.stream_version`,
          },
          [
            snapshot.stream,
            snapshot.streamVersion,
            snapshot.schemaVersion,
            JSON.stringify(snapshot.state),
            snapshot.takenAt,
          ],
        );
      }),
  };
}

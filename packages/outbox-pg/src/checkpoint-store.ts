import type { CheckpointStore } from '@relaybus/core';
import { CheckpointConflictError } from '@relaybus/core';
import { guarded } from './failures';
import { checkIdentifier, tablesOf } from './identifiers';
import { DEFAULTS } from './options';
import type { Queryable } from './sql/query';
import { run } from './sql/query';

/**
 * Options of {@link postgresCheckpointStore}.
 *
 * @example
 * ```ts
 * const options: PostgresCheckpointStoreOptions = { pool, schema: 'relaybus' };
 * ```
 */
export interface PostgresCheckpointStoreOptions {
  /**
   * Where to run the statements: a pool, or a client, for example one inside the transaction that also updates
   * a read model, so the model and its checkpoint commit together.
   */
  pool: Queryable;
  /**
   * The schema {@link migrate} created the tables in.
   * @defaultValue 'relaybus'
   */
  schema?: string;
}

/**
 * Projection checkpoints in the `checkpoints` table: one row per name with the position of the last handled
 * event. A save with `expected` is a compare-and-set in one statement.
 *
 * @throws `InvalidOptionError` for a malformed schema name (at once).
 * @example
 * ```ts
 * const checkpoints = postgresCheckpointStore({ pool });
 * startProjection(taskBoard, { store, checkpoints, model });
 * ```
 */
export function postgresCheckpointStore(options: PostgresCheckpointStoreOptions): CheckpointStore {
  const schema = checkIdentifier('postgresCheckpointStore()', 'schema', options.schema ?? DEFAULTS.schema);
  const table = tablesOf(schema).checkpoints;
  const db = options.pool;
  return {
    load: (name) =>
      guarded('checkpoints.load', db, async () => {
        const [row] = await run<{ position: string }>(
          db,
          {
            label: 'load checkpoint',
            privilege: `SELECT on ${table}`,
            text: `SELECT position FROM ${table} WHERE name = $1`,
          },
          [name],
        );
        return row?.position;
      }),
    save: (name, position, expected) =>
      guarded('checkpoints.save', db, async () => {
        if (expected === undefined) {
          await run(
            db,
            {
              label: 'save checkpoint',
              privilege: `INSERT, UPDATE on ${table}`,
              text: `INSERT INTO ${table} (name, position) VALUES ($1, $2)
              ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position, updated_at = now()`,
            },
            [name, position],
          );
          return;
        }
        // Compare-and-set; when it matches nothing, the same statement reports what is stored instead.
        const [row] = await run<{ saved: boolean; actual: string | null }>(
          db,
          {
            label: 'save checkpoint (compare-and-set)',
            privilege: `SELECT, UPDATE on ${table}`,
            text: `WITH saved AS (
              UPDATE ${table} SET position = $2, updated_at = now() WHERE name = $1 AND position = $3 RETURNING 1
            )
            SELECT EXISTS (SELECT 1 FROM saved) AS saved, (SELECT position FROM ${table} WHERE name = $1) AS actual`,
          },
          [name, position, expected],
        );
        if (row?.saved !== true) throw new CheckpointConflictError(name, expected, row?.actual ?? undefined);
      }),
    delete: (name) =>
      guarded('checkpoints.delete', db, async () => {
        await run(
          db,
          {
            label: 'delete checkpoint',
            privilege: `DELETE on ${table}`,
            text: `DELETE FROM ${table} WHERE name = $1`,
          },
          [name],
        );
      }),
  };
}

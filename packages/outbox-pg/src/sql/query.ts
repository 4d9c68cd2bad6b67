import type { ClientBase, Pool, QueryResultRow } from 'pg';
import { PermissionDeniedError } from '../errors';

/**
 * Where statements run: the user's pool, or a client (for example one inside the caller's transaction).
 *
 * @example
 * ```ts
 * const checkpoints = postgresCheckpointStore({ pool: client }); // saves inside the client's transaction
 * ```
 */
export type Queryable = Pool | ClientBase;

/**
 * A statement with what it is for and the privileges it needs, so a permission error can say both.
 *
 * @example
 * ```ts
 * const read: Statement = { label: 'readPage', privilege: 'SELECT on "relaybus"."events"', text: 'SELECT ...' };
 * ```
 */
export interface Statement {
  /** What relaybus is doing, for error messages. */
  readonly label: string;
  /** The privileges the statement needs. */
  readonly privilege: string;
  /** The SQL text, with `$n` parameters. */
  readonly text: string;
}

/**
 * Runs a statement and returns its rows, turning Postgres' `42501` into a {@link PermissionDeniedError} that names
 * the statement and the privilege.
 *
 * @example
 * ```ts
 * const rows = await run<{ version: string }>(pool, statement, [stream]);
 * ```
 */
export async function run<R extends QueryResultRow>(
  db: Queryable,
  statement: Statement,
  values: ReadonlyArray<unknown> = [],
): Promise<R[]> {
  try {
    const result = await db.query<R>(statement.text, [...values]);
    return result.rows;
  } catch (error) {
    if (pgCode(error) === '42501')
      throw new PermissionDeniedError(statement.label, statement.privilege, error);
    throw error;
  }
}

/**
 * The SQLSTATE of an error thrown by `pg`, if it has one.
 *
 * @example
 * ```ts
 * if (pgCode(error) === '23505') { ... } // unique_violation
 * ```
 */
export function pgCode(error: unknown): string | undefined {
  const code = typeof error === 'object' && error !== null ? Reflect.get(error, 'code') : undefined;
  return typeof code === 'string' ? code : undefined;
}

/**
 * The constraint a `pg` error names, if any.
 *
 * @example
 * ```ts
 * if (pgConstraint(error) === 'events_event_id_key') { ... }
 * ```
 */
export function pgConstraint(error: unknown): string | undefined {
  const name = typeof error === 'object' && error !== null ? Reflect.get(error, 'constraint') : undefined;
  return typeof name === 'string' ? name : undefined;
}

import type { Pool, PoolClient } from 'pg';

/**
 * Runs `fn` in a transaction on a connection of `pool`: COMMIT when it resolves, ROLLBACK when it throws (the
 * error is rethrown). A connection that cannot even roll back is destroyed instead of going back to the pool.
 *
 * @example
 * ```ts
 * const result = await inTransaction(pool, (client) => migrateLocked(client, schema, tables, wanted));
 * ```
 */
export async function inTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    try {
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch((rollbackError: unknown) => {
        broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      });
      throw error;
    }
  } finally {
    client.release(broken);
  }
}

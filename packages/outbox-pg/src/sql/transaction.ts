import type { Pool, PoolClient } from 'pg';

/** A connection taken from the pool, and how to give it back. */
export interface CheckedOut {
  readonly client: PoolClient;
  /**
   * Gives the connection back to the pool, or destroys it when it failed (passed `error`, or a failure the
   * connection reported while out).
   */
  release(error?: unknown): void;
}

/**
 * Takes a connection from the pool for a few statements. While it is out the pool does not listen for its errors,
 * and `pg` reports a lost connection both to the statement running and as an `'error'` event on the client, which
 * would crash the process with no listener. The statement fails either way, so the listener here only remembers
 * the failure, and `release()` then destroys the connection instead of returning it to the pool.
 *
 * @example
 * ```ts
 * const { client, release } = await checkout(pool);
 * try { await client.query('SELECT 1'); } finally { release(); }
 * ```
 */
export async function checkout(pool: Pool): Promise<CheckedOut> {
  const client = await pool.connect();
  let failed: Error | undefined;
  const onError = (error: Error): void => {
    failed ??= error;
  };
  client.on('error', onError);
  return {
    client,
    release(error) {
      client.off('error', onError);
      const broken = failed ?? (error === undefined ? undefined : toError(error));
      client.release(broken);
    },
  };
}

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
  const { client, release } = await checkout(pool);
  let broken: unknown;
  try {
    await client.query('BEGIN');
    try {
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch((rollbackError: unknown) => {
        broken = rollbackError;
      });
      throw error;
    }
  } finally {
    release(broken);
  }
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

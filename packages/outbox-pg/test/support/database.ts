import pg from 'pg';
import { afterAll, afterEach, beforeEach } from 'vitest';
import type { MigrateOptions } from '../../src/index';
import { migrate } from '../../src/index';

/**
 * Test support for suites against the shared Postgres (127.0.0.1:5432, database `test`, or PGHOST/PGPORT/
 * PGUSER/PGDATABASE). Each suite gets its own pool and fresh schemas (`rb_<pid>_<random>_<n>`), dropped with the
 * pool after the suite; it never touches other schemas.
 *
 * Visibility is cluster-wide: a transaction left open anywhere holds back every reader of the global feed (reads
 * stop below the oldest in-flight transaction). Suites that keep transactions open on purpose run them inside
 * {@link TestDatabase.holdingHorizon}; suites that assert what a read sees right after an append call
 * {@link TestDatabase.shareHorizonPerTest}. One advisory lock orders the two across test files and processes.
 *
 * @example
 * ```ts
 * const db = useTestDatabase();
 * it('appends', async () => {
 *   const schema = await db.newSchema();
 *   const store = db.track(postgresEventStore({ pool: db.pool, schema }));
 * });
 * ```
 */
export interface TestDatabase {
  /** The suite's pool (ended after the suite). */
  readonly pool: pg.Pool;
  /** A fresh schema name, migrated unless `migrate` is false; dropped after the suite. */
  newSchema(options?: { migrate?: boolean } & Omit<MigrateOptions, 'schema'>): Promise<string>;
  /** Registers a schema name made elsewhere (for example by a conformance factory) to drop after the suite. */
  trackSchema(schema: string): void;
  /** A client of the suite's pool, released (and its transaction rolled back) after the suite. */
  client(): Promise<pg.PoolClient>;
  /** Closes `closeable` after the suite (before the pool ends). */
  track<T extends { close(): Promise<void> }>(closeable: T): T;
  /** Runs `run` while no horizon-sensitive test runs anywhere on the cluster (see above). */
  holdingHorizon<T>(run: () => Promise<T>): Promise<T>;
  /** Makes each test of the current `describe` wait while a horizon-holding section runs elsewhere. */
  shareHorizonPerTest(): void;
}

const HORIZON_LOCK = [0x52427573, 0x74657374] as const; // "RBus", "test"

/**
 * Connection settings of the test database.
 *
 * @example
 * ```ts
 * const pool = new pg.Pool({ ...testConnection(), max: 4 });
 * ```
 */
export function testConnection(): pg.PoolConfig {
  const { PGHOST, PGPORT, PGUSER, PGDATABASE } = process.env;
  return {
    host: PGHOST && !PGHOST.startsWith('/') ? PGHOST : '127.0.0.1',
    port: Number(PGPORT || 5432),
    user: PGUSER || 'postgres',
    database: PGDATABASE || 'test',
  };
}

/**
 * A schema name unique to this process and call: `rb_<pid>_<random>`.
 *
 * @example
 * ```ts
 * const schema = uniqueSchemaName(); // 'rb_4242_k3j9x2'
 * ```
 */
export function uniqueSchemaName(prefix = 'rb'): string {
  return `${prefix}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * Sets up a {@link TestDatabase} for the calling test file; call it at the top level or in a `describe`.
 *
 * @example
 * ```ts
 * const db = useTestDatabase({ max: 20 });
 * ```
 */
export function useTestDatabase(options: { max?: number } = {}): TestDatabase {
  const pool = new pg.Pool({ ...testConnection(), max: options.max ?? 20 });
  // An idle client that loses its connection must not crash the test process.
  pool.on('error', () => {});
  const run = uniqueSchemaName();
  const schemas = new Set<string>();
  const clients = new Set<pg.PoolClient>();
  const closeables: Array<{ close(): Promise<void> }> = [];
  let count = 0;

  afterAll(async () => {
    await Promise.allSettled(closeables.map((closeable) => closeable.close()));
    for (const client of clients) {
      await client.query('ROLLBACK').catch(() => {});
      client.release();
    }
    const admin = await pool.connect();
    try {
      for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    } finally {
      admin.release();
      await pool.end();
    }
  });

  const database: TestDatabase = {
    pool,
    async newSchema(schemaOptions = {}) {
      const { migrate: shouldMigrate = true, ...migrateOptions } = schemaOptions;
      const schema = `${run}_${++count}`;
      schemas.add(schema);
      if (shouldMigrate) await migrate(pool, { ...migrateOptions, schema });
      return schema;
    },
    trackSchema(schema) {
      schemas.add(schema);
    },
    async client() {
      const client = await pool.connect();
      clients.add(client);
      return client;
    },
    track(closeable) {
      closeables.push(closeable);
      return closeable;
    },
    async holdingHorizon(section) {
      const lock = await pool.connect();
      try {
        await lock.query('SELECT pg_advisory_lock($1, $2)', [...HORIZON_LOCK]);
        return await section();
      } finally {
        await lock.query('SELECT pg_advisory_unlock($1, $2)', [...HORIZON_LOCK]).catch(() => {});
        lock.release();
      }
    },
    shareHorizonPerTest() {
      let lock: pg.PoolClient | undefined;
      beforeEach(async () => {
        lock = await pool.connect();
        await lock.query('SELECT pg_advisory_lock_shared($1, $2)', [...HORIZON_LOCK]);
      });
      afterEach(async () => {
        const held = lock;
        lock = undefined;
        if (held === undefined) return;
        await held.query('SELECT pg_advisory_unlock_shared($1, $2)', [...HORIZON_LOCK]).catch(() => {});
        held.release();
      });
    },
  };
  return database;
}

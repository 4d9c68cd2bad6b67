import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { migrate } from '@relaybus/outbox-pg';
import type { Pool } from 'pg';
import { migrateApp } from './schema';

/** Where the app keeps its data: a Postgres server, or PGlite (embedded Postgres) in a folder. */
export type DatabaseConfig =
  | { readonly kind: 'postgres'; readonly url: string }
  | { readonly kind: 'pglite'; readonly dataDir: string | undefined };

/** An open database with relaybus's and the app's tables migrated. */
export interface Database {
  readonly pool: Pool;
  readonly kind: DatabaseConfig['kind'];
  close(): Promise<void>;
}

/** The schema of relaybus's event log, outbox, inbox and checkpoints. */
export const RELAYBUS_SCHEMA = 'relaybus';

/**
 * Opens the database and migrates it: with a URL, a `pg` pool on that server; otherwise PGlite with its data in
 * `dataDir` (in memory when absent), through outbox-pg's pool adapter.
 */
export async function openDatabase(config: DatabaseConfig): Promise<Database> {
  let pool: Pool;
  let close: () => Promise<void>;
  if (config.kind === 'postgres') {
    const pg = (await import('pg')).default;
    pool = new pg.Pool({ connectionString: config.url, max: 10 });
    pool.on('error', () => undefined); // an idle connection that dies is replaced; statements report their own errors
    close = () => pool.end();
  } else {
    const [{ PGlite }, { pglitePool }, prepopulated] = await Promise.all([
      import('@electric-sql/pglite'),
      import('@relaybus/outbox-pg/pglite'),
      import('@electric-sql/pglite-prepopulatedfs'),
    ]);
    const dataDir = config.dataDir === undefined ? undefined : resolve(config.dataDir);
    if (dataDir !== undefined) mkdirSync(dataDir, { recursive: true });
    // A new database starts from PGlite's prepopulated data directory instead of running initdb (seconds of WASM).
    const fresh = dataDir === undefined || !existsSync(join(dataDir, 'PG_VERSION'));
    const db = await PGlite.create({
      ...(dataDir === undefined ? {} : { dataDir }),
      ...(fresh ? { loadDataDir: await prepopulated.dataDir() } : {}),
    });
    pool = pglitePool(db);
    close = () => db.close();
  }
  try {
    await migrate(pool, { schema: RELAYBUS_SCHEMA });
    await migrateApp(pool);
  } catch (error) {
    await close();
    throw error;
  }
  return { pool, kind: config.kind, close };
}

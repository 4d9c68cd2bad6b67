import { InvalidOptionError } from '@relaybus/core';
import { describe, expect, it } from 'vitest';
import {
  migrate,
  postgresCheckpointStore,
  postgresEventStore,
  RestoredLogError,
  SCHEMA_VERSION,
  SchemaVersionError,
} from '../src/index';
import { useTestDatabase } from './support/database';
import { collect, envelope, labels } from './support/events';

const db = useTestDatabase();
db.shareHorizonPerTest();

const TABLES = [
  'checkpoints',
  'events',
  'inbox',
  'meta',
  'relay_dead_letters',
  'relay_leases',
  'schema_migrations',
  'snapshots',
  'streams',
];

async function tablesIn(schema: string): Promise<string[]> {
  const { rows } = await db.pool.query<{ name: string }>(
    'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1',
    [schema],
  );
  return rows.map((row) => row.name);
}

describe('migrate()', () => {
  it('creates the schema and every table, then does nothing on later calls', async () => {
    const schema = await db.newSchema({ migrate: false });
    const first = await migrate(db.pool, { schema });
    expect(first).toEqual({
      schema,
      fromVersion: 0,
      toVersion: SCHEMA_VERSION,
      applied: [1, 2, 3],
      partitions: 16,
      epoch: 1,
      epochStarted: false,
    });
    expect(await tablesIn(schema)).toEqual(TABLES);
    const second = await migrate(db.pool, { schema });
    expect(second).toMatchObject({ fromVersion: SCHEMA_VERSION, applied: [], epochStarted: false });
  });

  it('is safe when four processes migrate the same new schema at once', async () => {
    const schema = await db.newSchema({ migrate: false });
    const results = await Promise.all(Array.from({ length: 4 }, () => migrate(db.pool, { schema })));
    expect(results.map((result) => result.applied.length).sort()).toEqual([0, 0, 0, SCHEMA_VERSION]);
    const { rows } = await db.pool.query(
      `SELECT version FROM "${schema}".schema_migrations ORDER BY version`,
    );
    expect(rows).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }]);
    expect(await tablesIn(schema)).toEqual(TABLES);
  });

  it('upgrades a schema at version 1 by the later steps only; the store asks for it until then', async () => {
    const schema = await db.newSchema();
    const store = db.track(postgresEventStore({ pool: db.pool, schema }));
    await store.append('task-1', [envelope('t', 'a')]);
    // Back to what release 1 left: its tables and events, no append or read function, no error history.
    await db.pool.query(`DROP FUNCTION "${schema}".append_events`);
    await db.pool.query(`DROP FUNCTION "${schema}".read_page`);
    await db.pool.query(`ALTER TABLE "${schema}".relay_dead_letters DROP COLUMN previous_errors`);
    await db.pool.query(`DELETE FROM "${schema}".schema_migrations WHERE version > 1`);
    const older = db.track(postgresEventStore({ pool: db.pool, schema }));
    const error = await older.append('task-1', [envelope('t', 'b')]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SchemaVersionError);
    expect(error).toMatchObject({
      code: 'SCHEMA_VERSION',
      schema,
      databaseVersion: 1,
      packageVersion: SCHEMA_VERSION,
    });
    expect((error as Error).message).toMatch(/Run migrate\(pool, \{ schema: '.+' \}\)/);
    expect(await migrate(db.pool, { schema })).toMatchObject({ fromVersion: 1, applied: [2, 3] });
    const upgraded = db.track(postgresEventStore({ pool: db.pool, schema }));
    await expect(upgraded.append('task-1', [envelope('t', 'b')])).resolves.toMatchObject({
      streamVersion: 2,
    });
  });

  it('refuses a schema migrated by a newer release, saying which version and what to do', async () => {
    const schema = await db.newSchema();
    await db.pool.query(
      `INSERT INTO "${schema}".schema_migrations (version, name) VALUES (7, 'from the future')`,
    );
    const error = await migrate(db.pool, { schema }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SchemaVersionError);
    expect(error).toMatchObject({ schema, databaseVersion: 7, packageVersion: SCHEMA_VERSION });
    expect((error as Error).message).toMatch(/at migration version 7/);
    expect((error as Error).message).toMatch(/Upgrade @relaybus\/outbox-pg/);
    const store = db.track(postgresEventStore({ pool: db.pool, schema }));
    await expect(store.headPosition()).rejects.toBeInstanceOf(SchemaVersionError);
  });

  it('the store says "run migrate()" on a schema that is not migrated, then works once it is', async () => {
    const schema = await db.newSchema({ migrate: false });
    const store = db.track(postgresEventStore({ pool: db.pool, schema }));
    const error = await store.append('s', [envelope('t', 'a')]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SchemaVersionError);
    expect(error).toMatchObject({ databaseVersion: 0, packageVersion: SCHEMA_VERSION });
    expect((error as Error).message).toMatch(/Run migrate\(pool, \{ schema: '.+' \}\)/);
    await migrate(db.pool, { schema });
    await expect(store.append('s', [envelope('t', 'a')])).resolves.toMatchObject({ streamVersion: 1 });
  });

  it('fixes the partition count at the first migration', async () => {
    const schema = await db.newSchema({ partitions: 4 });
    await expect(migrate(db.pool, { schema })).resolves.toMatchObject({ partitions: 4 });
    await expect(migrate(db.pool, { schema, partitions: 8 })).rejects.toMatchObject({
      name: 'InvalidOptionError',
      option: 'partitions',
    });
    const store = db.track(postgresEventStore({ pool: db.pool, schema, partitions: 8 }));
    await expect(store.headPosition()).rejects.toBeInstanceOf(InvalidOptionError);
    await expect(migrate(db.pool, { schema: `${schema}_x`, partitions: 0 })).rejects.toMatchObject({
      option: 'partitions',
    });
  });

  it('validates schema names before any SQL runs', async () => {
    const bad = [
      'Relaybus',
      'a-b',
      'x"; DROP SCHEMA public CASCADE; --',
      '',
      '1abc',
      'pg_catalog',
      'a'.repeat(64),
    ];
    for (const schema of bad) {
      await expect(migrate(db.pool, { schema }), JSON.stringify(schema)).rejects.toMatchObject({
        name: 'InvalidOptionError',
        code: 'INVALID_OPTION',
        option: 'schema',
      });
      expect(() => postgresEventStore({ pool: db.pool, schema })).toThrow(InvalidOptionError);
      expect(() => postgresCheckpointStore({ pool: db.pool, schema })).toThrow(InvalidOptionError);
    }
    expect(() => postgresEventStore({ pool: db.pool, schema: 'a'.repeat(63) })).not.toThrow();
  });
});

describe('a log restored into another cluster', () => {
  it('is detected, and migrate() starts a new epoch so new events sort after the restored ones', async () => {
    const schema = await db.newSchema();
    const t = `"${schema}"`;
    // What pg_restore leaves behind: rows stamped with transaction ids this cluster has not reached.
    const restored = envelope('t', 'restored');
    await db.pool.query(
      `INSERT INTO ${t}.events (epoch, tx_id, event_id, stream, stream_version, type, version, partition, envelope)
       VALUES (1, '900000000000', $1, 'task-1', 1, 't', 1, 0, $2::jsonb)`,
      [restored.id, JSON.stringify(restored)],
    );
    await db.pool.query(
      `INSERT INTO ${t}.streams (stream, version, last_epoch, last_tx_id) VALUES ('task-1', 1, 1, '900000000000')`,
    );
    const store = db.track(postgresEventStore({ pool: db.pool, schema }));
    await expect(store.append('task-1', [envelope('t', 'too early')])).rejects.toBeInstanceOf(
      RestoredLogError,
    );

    await expect(migrate(db.pool, { schema })).resolves.toMatchObject({ epoch: 2, epochStarted: true });
    await expect(migrate(db.pool, { schema }), 'only once').resolves.toMatchObject({
      epoch: 2,
      epochStarted: false,
    });
    const appended = await store.append('task-1', [envelope('t', 'new')], { expectedVersion: 1 });
    expect(appended.firstPosition.startsWith('0002.')).toBe(true);
    const all = await collect(store.readAll());
    expect(labels(all)).toEqual(['restored', 'new']);
    expect(all.map((event) => event.streamVersion)).toEqual([1, 2]);
  });
});

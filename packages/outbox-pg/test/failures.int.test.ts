import {
  ClosedError,
  RelaybusError,
  StoreError,
  StoreUnavailableError,
  VersionConflictError,
} from '@relaybus/core';
import { freePort } from '@relaybus/test-support';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createOutboxRelay, migrate, postgresEventStore, SchemaVersionError } from '../src/index';
import { testConnection, useTestDatabase } from './support/database';
import { collect, envelope } from './support/events';
import { recordingTransport } from './support/recording-transport';

const db = useTestDatabase();
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

describe('Postgres failures are typed errors naming the operation, the address and the fix', () => {
  const pools: pg.Pool[] = [];
  afterAll(() => Promise.all(pools.map((pool) => pool.end())));

  it('migrate, append, readAll and relay.start against a stopped Postgres: StoreUnavailableError', async () => {
    // Nothing listens there: connections are refused, as with a stopped Postgres.
    const port = await freePort();
    const pool = new pg.Pool({ host: '127.0.0.1', port, user: 'postgres', database: 'test' });
    pools.push(pool);
    const store = postgresEventStore({ pool, logger: quiet });
    const relay = createOutboxRelay({ pool, transport: recordingTransport(), logger: quiet });
    const failures: Array<[string, () => Promise<unknown>]> = [
      ['migrate', () => migrate(pool)],
      ['append', () => store.append('s', [envelope('t.x', 'a')])],
      ['readAll', () => collect(store.readAll())],
      ['relay.start', () => relay.start()],
    ];
    for (const [operation, failing] of failures) {
      const error = await failing().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, operation).toBeInstanceOf(StoreUnavailableError);
      expect(RelaybusError.is(error, 'STORE_UNAVAILABLE')).toBe(true);
      expect(error).toMatchObject({
        store: 'postgres',
        operation,
        address: `127.0.0.1:${port}`,
        cause: expect.objectContaining({ code: 'ECONNREFUSED' }),
      });
      expect((error as Error).message).toMatch(
        new RegExp(
          `^postgres ${operation.replace('.', '\\.')}: 127\\.0\\.0\\.1:${port} could not be reached .*Check that PostgreSQL runs there`,
        ),
      );
    }
    await relay.close();
    await store.close();
  });

  it('other driver failures are a StoreError with the SQLSTATE; relaybus errors stay as they are', async () => {
    const pool = new pg.Pool({ ...testConnection(), database: 'relaybus_no_such_database', max: 1 });
    pools.push(pool);
    const missing = await migrate(pool).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(StoreError);
    expect(missing).not.toBeInstanceOf(StoreUnavailableError);
    expect(missing).toMatchObject({
      code: 'STORE_FAILED',
      operation: 'migrate',
      cause: expect.objectContaining({ code: '3D000' }),
    });
    expect((missing as Error).message).toMatch(/SQLSTATE 3D000.*the database does not exist/);

    const unmigrated = await postgresEventStore({ pool: db.pool, schema: 'rb_never_migrated', logger: quiet })
      .headPosition()
      .catch((e: unknown) => e);
    expect(unmigrated).toBeInstanceOf(SchemaVersionError);

    const schema = await db.newSchema();
    const store = db.track(postgresEventStore({ pool: db.pool, schema }));
    await store.append('s', [envelope('t.x', 'a')]);
    const conflict = await store
      .append('s', [envelope('t.x', 'b')], { expectedVersion: 0 })
      .catch((e: unknown) => e);
    expect(conflict).toBeInstanceOf(VersionConflictError);
  });

  it('append after close() is refused with ClosedError, and writes nothing', async () => {
    const schema = await db.newSchema();
    const store = postgresEventStore({ pool: db.pool, schema });
    await store.close();
    const error = await store.append('s', [envelope('t.x', 'a')]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClosedError);
    expect((error as Error).message).toMatch(/postgres event store is closed/);
    const { rows } = await db.pool.query(`SELECT count(*)::integer AS n FROM "${schema}".events`);
    expect(rows).toEqual([{ n: 0 }]);
  });
});

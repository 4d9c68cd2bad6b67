import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { migrate, PermissionDeniedError, postgresEventStore } from '../src/index';
import { testConnection, uniqueSchemaName, useTestDatabase } from './support/database';
import { envelope } from './support/events';

const db = useTestDatabase();

describe('missing privileges', () => {
  const role = `${uniqueSchemaName('rb_role')}`;
  let rolePool: pg.Pool | undefined;
  afterAll(async () => {
    await rolePool?.end();
    await db.pool.query(`DROP OWNED BY "${role}"`).catch(() => {});
    await db.pool.query(`DROP ROLE IF EXISTS "${role}"`);
  });

  it('name the statement and the privilege it needs', async () => {
    const schema = await db.newSchema();
    await db.pool.query(`CREATE ROLE "${role}" NOLOGIN`);
    await db.pool.query(`GRANT USAGE ON SCHEMA "${schema}" TO "${role}"`);
    await db.pool.query(`GRANT SELECT ON ALL TABLES IN SCHEMA "${schema}" TO "${role}"`);
    rolePool = new pg.Pool({ ...testConnection(), max: 3, options: `-c role=${role}` });

    const store = db.track(postgresEventStore({ pool: rolePool, schema }));
    await expect(store.headPosition(), 'reading needs SELECT only').resolves.toBeUndefined();
    await expect(
      migrate(rolePool, { schema }),
      'an up-to-date schema needs no CREATE',
    ).resolves.toMatchObject({
      applied: [],
    });

    const error = await store.append('task-1', [envelope('t', 'a')]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermissionDeniedError);
    expect(error).toMatchObject({
      code: 'PERMISSION_DENIED',
      statement: 'append',
      privilege: `EXECUTE on "${schema}"."append_events"; SELECT, INSERT on "${schema}"."events"; SELECT, INSERT, UPDATE on "${schema}"."streams"; SELECT on "${schema}"."meta"`,
      cause: expect.objectContaining({ code: '42501' }),
    });
    expect((error as Error).message).toMatch(/needs .*SELECT, INSERT, UPDATE on .*streams/);

    const fresh = `${schema}_new`;
    const denied = await migrate(rolePool, { schema: fresh }).catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(PermissionDeniedError);
    expect(denied).toMatchObject({
      statement: `migrate: create schema "${fresh}"`,
      privilege: 'CREATE on the database',
    });
  });
});

import { VersionConflictError } from '@relaybus/core';
import { describe, expect, it } from 'vitest';
import type { PostgresEventStore } from '../src/index';
import { postgresEventStore, TransactionRequiredError } from '../src/index';
import { useTestDatabase } from './support/database';
import { collect, envelope, labels, readUntil } from './support/events';

const db = useTestDatabase();
db.shareHorizonPerTest();

async function setup(): Promise<{ store: PostgresEventStore; tasks: string }> {
  const schema = await db.newSchema();
  const tasks = `"${schema}".tasks`;
  await db.pool.query(`CREATE TABLE ${tasks} (id text PRIMARY KEY, title text NOT NULL)`);
  return { store: db.track(postgresEventStore({ pool: db.pool, schema })), tasks };
}

async function taskCount(tasks: string): Promise<number> {
  const { rows } = await db.pool.query<{ count: string }>(`SELECT count(*)::text AS count FROM ${tasks}`);
  return Number(rows[0]?.count);
}

describe("appending in the caller's transaction", () => {
  it('ROLLBACK removes both the state change and the events', async () => {
    const { store, tasks } = await setup();
    const client = await db.client();
    await client.query('BEGIN');
    await client.query(`INSERT INTO ${tasks} VALUES ('t1', 'Write')`);
    const result = await store.append('task-t1', [envelope('task.created', 'created')], {
      transaction: client,
      expectedVersion: 'no_stream',
    });
    expect(result.streamVersion).toBe(1);
    expect(await store.streamVersion('task-t1'), 'uncommitted events are invisible to others').toBe(0);
    await client.query('ROLLBACK');

    expect(await taskCount(tasks)).toBe(0);
    expect(await store.streamVersion('task-t1')).toBe(0);
    expect(await store.headPosition()).toBeUndefined();
    const { rows } = await db.pool.query(`SELECT * FROM "${store.schema}".events`);
    expect(rows, 'no event row survives the rollback').toEqual([]);
  });

  it('COMMIT keeps both, and the append wakes waiters once committed', async () => {
    const { store, tasks } = await setup();
    const waiting = store.waitForEvents(undefined);
    const client = await db.client();
    await client.query('BEGIN');
    await client.query(`INSERT INTO ${tasks} VALUES ('t1', 'Write')`);
    await store.append('task-t1', [envelope('task.created', 'created')], { transaction: client });
    await client.query('COMMIT');

    await waiting;
    expect(await taskCount(tasks)).toBe(1);
    const all = await readUntil(
      () => collect(store.readAll()),
      (events) => events.length >= 1,
    );
    expect(labels(all)).toEqual(['created']);
  });

  it('refuses a client that is not inside a transaction, and writes nothing', async () => {
    const { store } = await setup();
    const client = await db.client();
    const error = await store
      .append('task-t1', [envelope('task.created', 'created')], { transaction: client })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransactionRequiredError);
    expect(error).toMatchObject({
      name: 'TransactionRequiredError',
      code: 'INVALID_OPTION',
      option: 'transaction',
    });
    expect((error as Error).message).toMatch(/BEGIN/);
    expect(await store.streamVersion('task-t1')).toBe(0);
  });

  it('with requireTransaction: false, runs its own transaction on that client', async () => {
    const { store } = await setup();
    const client = await db.client();
    const result = await store.append('task-t1', [envelope('task.created', 'created')], {
      transaction: client,
      requireTransaction: false,
    });
    expect(result.streamVersion).toBe(1);
    expect(await store.streamVersion('task-t1'), 'committed at once').toBe(1);
    await expect(
      client.query('SAVEPOINT probe'),
      'the client is left outside a transaction',
    ).rejects.toMatchObject({
      code: '25P01',
    });
  });

  it('a failed append leaves the transaction usable; an idempotent retry inside it returns the first result', async () => {
    const { store, tasks } = await setup();
    const created = await store.append('task-t1', [envelope('task.created', 'created')]);
    const client = await db.client();
    await client.query('BEGIN');
    await client.query(`INSERT INTO ${tasks} VALUES ('t1', 'Write')`);
    const conflict = await store
      .append('task-t1', [envelope('task.renamed', 'stale')], { transaction: client, expectedVersion: 0 })
      .catch((e: unknown) => e);
    expect(conflict).toBeInstanceOf(VersionConflictError);
    expect(conflict).toMatchObject({ expected: 0, actual: 1 });

    const renamed = envelope('task.renamed', 'renamed');
    const first = await store.append('task-t1', [renamed], { transaction: client, expectedVersion: 1 });
    const again = await store.append('task-t1', [renamed], { transaction: client, expectedVersion: 1 });
    expect(again).toEqual(first);
    await client.query('COMMIT');

    expect(await taskCount(tasks)).toBe(1);
    const stream = await collect(store.readStream('task-t1'));
    expect(labels(stream)).toEqual(['created', 'renamed']);
    expect(stream[0]?.position).toBe(created.firstPosition);
  });
});

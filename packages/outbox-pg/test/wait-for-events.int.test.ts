import { silentLogger } from '@relaybus/core';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { postgresEventStore } from '../src/index';
import { testConnection, useTestDatabase } from './support/database';
import { envelope } from './support/events';

const db = useTestDatabase();
db.shareHorizonPerTest();

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

describe('waitForEvents across processes', () => {
  it('wakes on NOTIFY from another store within milliseconds, not at the next poll', async () => {
    const schema = await db.newSchema();
    const reader = db.track(postgresEventStore({ pool: db.pool, schema, pollIntervalMs: 60_000 }));
    const writer = db.track(postgresEventStore({ pool: db.pool, schema }));
    const waiting = reader.waitForEvents(undefined);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await writer.append('s', [envelope('t', 'a')]);
    await within(waiting, 2_000, 'a wait woken by NOTIFY');
  });

  it("wakes on NOTIFY from an append in the caller's transaction once the caller commits", async () => {
    const schema = await db.newSchema();
    const reader = db.track(postgresEventStore({ pool: db.pool, schema, pollIntervalMs: 60_000 }));
    const writer = db.track(postgresEventStore({ pool: db.pool, schema }));
    const waiting = reader.waitForEvents(undefined);
    let woken = false;
    void waiting.then(() => {
      woken = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      await writer.append('s', [envelope('t', 'a')], { transaction: client });
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(woken, 'nothing is visible before the commit').toBe(false);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    await within(waiting, 2_000, 'a wait woken by the NOTIFY sent at COMMIT');
  });

  it('falls back to polling when LISTEN is off or its connection is lost', async () => {
    const schema = await db.newSchema();
    const writer = db.track(postgresEventStore({ pool: db.pool, schema, notify: false }));
    const polling = db.track(
      postgresEventStore({ pool: db.pool, schema, listen: false, pollIntervalMs: 100 }),
    );
    const first = polling.waitForEvents(undefined);
    await writer.append('s', [envelope('t', 'a')]);
    await within(first, 2_000, 'a polling wait');

    const head = await writer.headPosition();
    const warnings: string[] = [];
    const logger = { ...silentLogger, warn: (message: string) => warnings.push(message) };
    const listening = db.track(postgresEventStore({ pool: db.pool, schema, pollIntervalMs: 200, logger }));
    const second = listening.waitForEvents(head);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const listeners = async (): Promise<number> => {
      const { rows } = await db.pool.query<{ count: number }>(
        'SELECT count(*)::integer AS count FROM pg_stat_activity WHERE query = $1 AND datname = current_database()',
        [`LISTEN "relaybus_${schema}"`],
      );
      return rows[0]?.count ?? 0;
    };
    expect(await listeners()).toBe(1);
    await db.pool.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = $1 AND datname = current_database()',
      [`LISTEN "relaybus_${schema}"`],
    );
    await writer.append('s', [envelope('t', 'b')]);
    await within(second, 3_000, 'a wait whose LISTEN connection died');
    expect(warnings).toContainEqual(expect.stringMatching(/LISTEN connection failed/));
    const deadline = Date.now() + 3_000;
    while ((await listeners()) < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await listeners(), 'the store listens again on a new connection').toBe(1);
  });

  it('close() gives the LISTEN connection back to the pool and never ends the pool', async () => {
    const schema = await db.newSchema();
    const pool = new pg.Pool({ ...testConnection(), max: 3 });
    afterAll(() => pool.end());
    const store = postgresEventStore({ pool, schema });
    const controller = new AbortController();
    const waiting = store.waitForEvents(undefined, controller.signal).catch((error: unknown) => error);
    // The wait's first head query may still hold a second connection for a moment (a fresh pool connects first).
    const held = (): number => pool.totalCount - pool.idleCount;
    const deadline = Date.now() + 3_000;
    while (held() !== 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(held(), 'one connection is held for LISTEN').toBe(1);
    controller.abort(new Error('stop'));
    expect(await waiting).toMatchObject({ message: 'stop' });
    await store.close();
    expect(pool.totalCount - pool.idleCount, 'no connection is held after close()').toBe(0);
    const { rows } = await pool.query('SELECT 1 AS ok');
    expect(rows).toEqual([{ ok: 1 }]);
    await expect(store.waitForEvents(undefined)).rejects.toMatchObject({ name: 'ClosedError' });
  });
});

import type { StoredEvent } from '@relaybus/core';
import { subscribeToAll } from '@relaybus/core';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { PostgresEventStore } from '../src/index';
import { postgresEventStore, StreamOrderConflictError } from '../src/index';
import { testConnection, useTestDatabase } from './support/database';
import { collect, envelope, labels, readUntil } from './support/events';

const db = useTestDatabase();

async function openStore(options: { visibilityWaitMs?: number } = {}): Promise<PostgresEventStore> {
  const schema = await db.newSchema();
  return db.track(postgresEventStore({ pool: db.pool, schema, ...options }));
}

/** Starts a transaction and gives it a transaction id now, so ids follow the order of these calls. */
async function begin(): Promise<{ client: pg.PoolClient; xid: string }> {
  const client = await db.client();
  await client.query('BEGIN');
  const { rows } = await client.query<{ xid: string }>('SELECT pg_current_xact_id()::text AS xid');
  return { client, xid: rows[0]?.xid ?? '' };
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await sleep(20);
  }
}

describe('global order without gaps', () => {
  it('four transactions committing out of order, one rolled back: readers see exactly the three committed, none skipped', async () => {
    await db.holdingHorizon(async () => {
      const store = await openStore();
      const controller = new AbortController();
      const seen: StoredEvent[] = [];
      const subscription = (async () => {
        for await (const event of subscribeToAll(store, { signal: controller.signal })) seen.push(event);
      })();

      const [t1, t2, t3, t4] = [await begin(), await begin(), await begin(), await begin()];
      if (!t1 || !t2 || !t3 || !t4) throw new Error('transactions missing');
      expect(BigInt(t1.xid) < BigInt(t2.xid) && BigInt(t3.xid) < BigInt(t4.xid)).toBe(true);
      await store.append('s-1', [envelope('t', 't1.a')], { transaction: t1.client });
      await store.append('s-2', [envelope('t', 't2.a')], { transaction: t2.client });
      await store.append('s-3', [envelope('t', 't3.a'), envelope('t', 't3.b')], { transaction: t3.client });
      await store.append('s-4', [envelope('t', 't4.a')], { transaction: t4.client });

      // A reader keyed on "highest id seen" would take t4's row now and skip t1's for good.
      await t4.client.query('COMMIT');
      expect((await store.readPage({ limit: 100 })).events, 'nothing passes the in-flight t1').toEqual([]);
      expect(await store.headPosition()).toBeUndefined();
      await t3.client.query('COMMIT');
      await t2.client.query('ROLLBACK');
      expect((await store.readPage({ limit: 100 })).events).toEqual([]);
      await sleep(100);
      expect(seen, 'the subscription has yielded nothing yet').toEqual([]);

      await t1.client.query('COMMIT');
      const all = await readUntil(
        () => collect(store.readAll()),
        (events) => events.length >= 4,
      );
      expect(labels(all), 'in transaction-id order, the rolled-back one absent').toEqual([
        't1.a',
        't3.a',
        't3.b',
        't4.a',
      ]);
      await within(
        (async () => {
          while (seen.length < 4) await sleep(10);
        })(),
        5_000,
        'the subscription to see all four events',
      );
      await sleep(100);
      controller.abort();
      await subscription;
      expect(labels(seen), 'the live reader saw the same sequence, no gap, no duplicate').toEqual(
        labels(all),
      );
      expect(await store.headPosition()).toBe(all[3]?.position);
    });
  });

  it('a long-running transaction holds back visibility (and wake-ups) until it ends', async () => {
    await db.holdingHorizon(async () => {
      const store = await openStore({ visibilityWaitMs: 0 });
      const before = await store.append('s', [envelope('t', 'before')]);
      const long = await begin();
      const held = await store.append('s', [envelope('t', 'held-1')]);
      await store.append('other', [envelope('t', 'held-2')]);

      expect(await store.headPosition(), 'the head stays below the open transaction').toBe(
        before.lastPosition,
      );
      const page = await store.readPage({ from: before.lastPosition, limit: 10 });
      expect(page, 'nothing newer than the open transaction is readable').toEqual({
        events: [],
        next: undefined,
      });
      expect(await store.streamVersion('s'), 'stream reads are not held back').toBe(2);
      const waiting = store.waitForEvents(before.lastPosition);
      let woke = false;
      void waiting.then(() => {
        woke = true;
      });
      await sleep(300);
      expect(woke, 'waitForEvents does not resolve while the events are held back').toBe(false);

      await long.client.query('ROLLBACK');
      await within(waiting, 3_000, 'waitForEvents after the long transaction ended');
      const after = await readUntil(
        () => collect(store.readAll({ from: before.lastPosition })),
        (events) => events.length >= 2,
      );
      expect(labels(after)).toEqual(['held-1', 'held-2']);
      expect(after[0]?.position).toBe(held.firstPosition);
    });
  });
  it('an append returns once its events are readable (bounded by visibilityWaitMs)', async () => {
    await db.holdingHorizon(async () => {
      const store = await openStore({ visibilityWaitMs: 10_000 });
      const older = await begin();
      let done = false;
      const appending = store.append('s', [envelope('t', 'a')]).then((result) => {
        done = true;
        return result;
      });
      await sleep(300);
      expect(done, 'the append waits for the older transaction').toBe(false);
      expect(await store.streamVersion('s'), 'though it has committed').toBe(1);
      await older.client.query('COMMIT');
      const result = await within(appending, 3_000, 'the append after the older transaction ended');
      expect(await store.headPosition(), 'readable as soon as append returns').toBe(result.lastPosition);

      // Appends waiting for visibility hold no connection: 12 of them fit through a pool of 3.
      const small = new pg.Pool({ ...testConnection(), max: 3 });
      const narrow = postgresEventStore({
        pool: small,
        schema: store.schema,
        visibilityWaitMs: 10_000,
        listen: false,
      });
      try {
        const blocking = await begin();
        const waiting = Array.from({ length: 12 }, (_, i) =>
          narrow.append(`w-${i}`, [envelope('t', `w${i}`)]),
        );
        await waitUntil(async () => {
          const versions = await Promise.all(waiting.map((_, i) => store.streamVersion(`w-${i}`)));
          return versions.every((version) => version === 1);
        }, 3_000);
        await blocking.client.query('COMMIT');
        await within(Promise.all(waiting), 3_000, 'twelve appends released by one commit');
      } finally {
        await narrow.close();
        await small.end();
      }

      const impatient = await openStore({ visibilityWaitMs: 50 });
      const blocker = await begin();
      const started = Date.now();
      await impatient.append('s', [envelope('t', 'b')]);
      expect(Date.now() - started, 'gives up after the bound').toBeLessThan(2_000);
      await blocker.client.query('ROLLBACK');
    });
  });
});

describe('per-stream order in the global feed', () => {
  it('refuses an append from a transaction older than the stream’s last writer, then accepts the retry', async () => {
    await db.holdingHorizon(async () => {
      const store = await openStore({ visibilityWaitMs: 0 });
      const older = await begin();
      const newer = await store.append('task-1', [envelope('t', 'v1')]);
      expect(newer.streamVersion).toBe(1);

      // The older transaction would get version 2 but sort before version 1 in the feed.
      const error = await store
        .append('task-1', [envelope('t', 'v2')], { transaction: older.client })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StreamOrderConflictError);
      expect(error).toMatchObject({ code: 'VERSION_CONFLICT', stream: 'task-1', expected: 'any', actual: 1 });
      await older.client.query('ROLLBACK');

      const retry = await begin();
      const v2 = envelope('t', 'v2');
      await store.append('task-1', [v2], { transaction: retry.client, expectedVersion: 1 });
      await retry.client.query('COMMIT');
      const feed = await readUntil(
        () => collect(store.readAll()),
        (events) => events.length >= 2,
      );
      expect(feed.map((event) => [event.streamVersion, labels([event])[0]])).toEqual([
        [1, 'v1'],
        [2, 'v2'],
      ]);
    });
  });

  it('the store retries its own transaction and keeps version order under contention', async () => {
    const store = await openStore();
    await Promise.all(
      Array.from({ length: 12 }, (_, writer) =>
        (async () => {
          for (let i = 0; i < 10; i++) await store.append('hot', [envelope('t', `w${writer}.${i}`)]);
        })(),
      ),
    );
    const feed = await readUntil(
      () => collect(store.readAll()),
      (events) => events.length >= 120,
    );
    expect(feed.map((event) => event.streamVersion)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
  });
});

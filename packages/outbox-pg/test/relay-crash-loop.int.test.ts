import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createOutboxRelay, postgresEventStore } from '../src/index';
import { useTestDatabase } from './support/database';
import { envelope } from './support/events';
import { recordingTransport, until } from './support/recording-transport';
import type { RelayProcess } from './support/relay-process';
import { published, spawnRelay } from './support/relay-process';

// Relays killed with SIGKILL, over and over. A crash counts against an event only when the relay died while
// publishing it; the default crashLimit is 3.

const db = useTestDatabase();
const dir = mkdtempSync(join(tmpdir(), 'relay-crash-loop-'));
const running = new Set<RelayProcess>();
afterAll(async () => {
  await Promise.all([...running].map((relay) => relay.kill()));
  rmSync(dir, { recursive: true, force: true });
});
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const labelOf = (body: unknown): string => String((body as { data: { label: string } }).data.label);

function start(schema: string, file: string, env: Record<string, string> = {}): RelayProcess {
  const relay = spawnRelay(schema, file, env);
  running.add(relay);
  void relay.exited.then(() => running.delete(relay));
  return relay;
}

/** Whether both partitions are leased (unexpired) with a token of at least `token`: the claims of a new round. */
async function allClaimed(schema: string, token: number): Promise<boolean> {
  const { rows } = await db.pool.query<{ claimed: number }>(
    `SELECT count(*)::integer AS claimed FROM "${schema}".relay_leases
     WHERE partition >= 0 AND owner IS NOT NULL AND expires_at > now() AND token >= $1`,
    [token],
  );
  return rows[0]?.claimed === 2;
}

async function parkedCount(schema: string): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>(
    `SELECT count(*)::integer AS n FROM "${schema}".relay_dead_letters`,
  );
  return rows[0]?.n ?? 0;
}

describe('outbox relay: crash loops', () => {
  db.shareHorizonPerTest();

  it('two relays SIGKILLed three times on idle partitions: the next events are delivered, none parked', async () => {
    const schema = await db.newSchema({ partitions: 2 });
    const file = join(dir, 'idle.jsonl');
    for (let round = 1; round <= 3; round++) {
      const relays = [start(schema, file), start(schema, file)];
      await until(() => allClaimed(schema, round), `round ${round}: both partitions claimed`, 20_000);
      await Promise.all(relays.map((relay) => relay.kill()));
    }
    const store = db.track(postgresEventStore({ pool: db.pool, schema }));
    for (let s = 0; s < 6; s++) await store.append(`s${s}`, [envelope('t.x', `s${s}`)]);
    const transport = recordingTransport();
    const relay = db.track(
      createOutboxRelay({ pool: db.pool, schema, transport, leaseTtlMs: 1_000, logger: quiet }),
    );
    await relay.start();
    await until(() => transport.published.length >= 6, 'every event', 20_000);
    expect(transport.published.map((m) => labelOf(m.body)).sort()).toEqual([
      's0',
      's1',
      's2',
      's3',
      's4',
      's5',
    ]);
    expect(await parkedCount(schema)).toBe(0);
  }, 90_000);

  it('relays SIGKILLed three times mid-publish: every event delivered at least once, none parked', async () => {
    const schema = await db.newSchema({ partitions: 2 });
    const store = db.track(postgresEventStore({ pool: db.pool, schema }));
    for (let s = 0; s < 10; s++) {
      await store.append(
        `s${s}`,
        Array.from({ length: 30 }, (_, i) => envelope('t.x', `s${s}-${i}`)),
      );
    }
    const file = join(dir, 'busy.jsonl');
    for (let kill = 1; kill <= 3; kill++) {
      const relay = start(schema, file);
      const seen = new Set(published(file).map((m) => m.id)).size;
      await until(
        () => new Set(published(file).map((m) => m.id)).size >= seen + 20,
        `progress before kill ${kill}`,
        20_000,
      );
      await relay.kill();
    }
    start(schema, file);
    await until(() => new Set(published(file).map((m) => m.id)).size >= 300, 'every event', 30_000);
    expect(await parkedCount(schema)).toBe(0);
  }, 90_000);

  it('an event that kills every relay publishing it is parked after crashLimit crashes; the rest is delivered', async () => {
    const schema = await db.newSchema({ partitions: 1 });
    const store = db.track(postgresEventStore({ pool: db.pool, schema }));
    await store.append('a', [envelope('t.x', 'a1'), envelope('t.x', 'killer'), envelope('t.x', 'a3')]);
    await store.append('b', [envelope('t.x', 'b1')]);
    const file = join(dir, 'poison.jsonl');
    let crashes = 0;
    while ((await parkedCount(schema)) === 0) {
      expect(crashes, 'parked within the first crashes').toBeLessThan(6);
      const relay = start(schema, file, { RELAY_KILL_ON: 'killer' });
      // It dies publishing the killer, or (once the killer is parked) carries on.
      const ended = await Promise.race([
        relay.exited.then(() => true),
        until(async () => (await parkedCount(schema)) > 0, 'the killer parked', 20_000).then(() => false),
      ]);
      if (ended) crashes += 1;
    }
    await until(() => published(file).length >= 3, 'the other events', 20_000);
    expect([...new Set(published(file).map((m) => labelOf(m.body)))].sort()).toEqual(['a1', 'a3', 'b1']);
    const { rows } = await db.pool.query(
      `SELECT attempts, error->>'message' AS message FROM "${schema}".relay_dead_letters`,
    );
    expect(rows).toEqual([
      {
        attempts: 3,
        message: expect.stringMatching(/crash loop: 3 relay instances stopped while publishing/),
      },
    ]);
    // The first crash, in a batch, is not attributed; the next three, with the killer marked in flight, are.
    expect(crashes).toBe(4);
  }, 120_000);
});

import type { StoredEvent } from '@relaybus/core';
import { describe, expect, it } from 'vitest';
import type { OutboxRelay } from '../src/index';
import { createOutboxRelay, postgresEventStore } from '../src/index';
import { useTestDatabase } from './support/database';
import { envelope } from './support/events';
import { recordingTransport, until } from './support/recording-transport';

const db = useTestDatabase({ max: 40 });
const KEYS = 100;
const PER_KEY = 100;
const PER_APPEND = 25;

/** Checks per-key order: after dropping redeliveries, each key's versions are 1..PER_KEY in publish order. */
function expectPerKeyOrder(events: ReadonlyArray<StoredEvent>): void {
  const byKey = new Map<string, number[]>();
  const seen = new Set<string>();
  for (const event of events) {
    if (seen.has(event.id)) continue;
    seen.add(event.id);
    const versions = byKey.get(event.stream) ?? [];
    versions.push(event.streamVersion);
    byKey.set(event.stream, versions);
  }
  expect(seen.size).toBe(KEYS * PER_KEY);
  const expected = Array.from({ length: PER_KEY }, (_, i) => i + 1);
  for (const [, versions] of byKey) expect(versions).toEqual(expected);
}

async function appendAll(schema: string): Promise<void> {
  const store = db.track(postgresEventStore({ pool: db.pool, schema, visibilityWaitMs: 0 }));
  const writers = Array.from({ length: 10 }, async (_, writer) => {
    for (let round = 0; round < PER_KEY / PER_APPEND; round++) {
      for (let key = writer; key < KEYS; key += 10) {
        const batch = Array.from({ length: PER_APPEND }, (_, i) =>
          envelope('load.happened', `k${key}-${round * PER_APPEND + i + 1}`),
        );
        await store.append(`key-${key}`, batch);
      }
    }
  });
  await Promise.all(writers);
}

async function runWith(relayCount: number, closeOneMidway: boolean, balanceFirst: boolean): Promise<void> {
  const schema = await db.newSchema({ partitions: 16 });
  const transport = recordingTransport();
  const relays: OutboxRelay[] = Array.from({ length: relayCount }, () =>
    db.track(createOutboxRelay({ pool: db.pool, schema, transport, leaseTtlMs: 1_500, batchSize: 200 })),
  );
  await Promise.all(relays.map((relay) => relay.start()));
  if (balanceFirst) {
    await until(
      () => relays.every((relay) => relay.ownedPartitions().length === 16 / relayCount),
      'even shares',
    );
  }
  const appending = appendAll(schema);
  if (closeOneMidway) {
    await until(() => transport.published.length >= 2_000, '2000 messages', 30_000);
    await relays[0]?.close();
  }
  await appending;
  await until(
    () => new Set(transport.published.map((m) => m.id)).size >= KEYS * PER_KEY,
    'every event',
    30_000,
  );
  expectPerKeyOrder(transport.events());
  // Every live relay ended up with a share of the partitions.
  const live = closeOneMidway ? relays.slice(1) : relays;
  await until(() => live.every((relay) => relay.ownedPartitions().length > 0), 'a share each', 10_000);
  const owned = live.flatMap((relay) => relay.ownedPartitions());
  expect(new Set(owned).size).toBe(owned.length);
}

describe('outbox relay: several instances', () => {
  db.shareHorizonPerTest();

  it('two relays sharing the partitions evenly deliver 10,000 events over 100 keys in per-key order, nothing lost', async () => {
    await runWith(2, false, true);
  }, 60_000);

  it('four relays, rebalancing under load and one closing midway, keep per-key order and lose nothing', async () => {
    await runWith(4, true, false);
  }, 60_000);
});

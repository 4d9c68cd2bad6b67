import type { Delivery, TransportMessage } from '@relaybus/core';
import { waitFor } from '@relaybus/core/testing';
import { describe, expect, it } from 'vitest';
import { forEachClient } from './support/for-each-client';
import { describeStreams } from './support/inspect';
import { type RedisServer, useRedisServer } from './support/redis-server';
import { uniquePrefix, useTransports } from './support/transports';

const TOPIC = 'account.changed';
const GROUP = 'ledger';
const KEYS = 30;
/** 3 messages every 10 ms: 300 per second, keys in turn. */
const PER_TICK = 3;
const TICK_MS = 10;
const CONCURRENCY = 8;
/**
 * The run had the default 5 s lease TTL and a 7 s gap; scaled down here to keep the test short. What matters
 * is that the gap is longer than the TTL, so every lease has expired when Redis comes back.
 */
const LEASE_TTL_MS = 3_000;
const PARTITIONS = 8;
/** Redis is killed again once this many more messages were handled since it came back. */
const BUSY_AFTER = 300;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * What two consumers of one group did, checked as it happens: whether a message of a key was handled for the first
 * time after a later message of that key (an inversion), and whether two deliveries of one key ever ran at once.
 */
class OrderWatch {
  readonly inversions: string[] = [];
  readonly overlaps: string[] = [];
  readonly handled = new Set<string>();
  deliveries = 0;
  readonly #highest = new Map<string, { readonly seq: number; readonly at: number }>();
  readonly #active = new Map<string, number>();

  handler(consumer: number): (delivery: Delivery) => Promise<void> {
    return async (delivery) => {
      const { id, key = '' } = delivery.message;
      const seq = Number(id.slice(id.indexOf('#') + 1));
      this.deliveries++;
      const holder = this.#active.get(key);
      if (holder !== undefined)
        this.overlaps.push(`${id} started on consumer ${consumer} while ${holder} had ${key}`);
      this.#active.set(key, consumer);
      if (!this.handled.has(id)) {
        this.handled.add(id);
        const top = this.#highest.get(key);
        if (top !== undefined && seq < top.seq) {
          this.inversions.push(`${id} first handled ${Date.now() - top.at} ms after ${key}#${top.seq}`);
        }
        if (top === undefined || seq > top.seq) this.#highest.set(key, { seq, at: Date.now() });
      }
      // Handling takes a little time, so that two deliveries of a key would overlap if they could.
      await sleep(Math.floor(Math.random() * 4));
      if (this.#active.get(key) === consumer) this.#active.delete(key);
      await delivery.ack();
    };
  }
}

/**
 * Raises 3 messages every 10 ms (300/s, keys in turn) until stopped, and sends what was raised in batches of up to
 * 100, in order, retrying a batch Redis did not confirm: while Redis is down messages pile up, as in an outbox, and
 * the backlog arrives in a burst once it is back. Records when each message was confirmed.
 */
function startPublishing(publish: (batch: TransportMessage[]) => Promise<void>) {
  const confirmed = new Map<string, number>();
  const raised: TransportMessage[] = [];
  const next = new Array<number>(KEYS).fill(0);
  let turn = 0;
  let stopped = false;
  const ticker = setInterval(() => {
    for (let i = 0; i < PER_TICK; i++) {
      const key = turn++ % KEYS;
      const seq = next[key] ?? 0;
      next[key] = seq + 1;
      raised.push({ id: `k${key}#${seq}`, topic: TOPIC, key: `k${key}`, body: { key, seq } });
    }
  }, TICK_MS);
  const sending = (async () => {
    while (!stopped || raised.length > 0) {
      const batch = raised.slice(0, 100);
      if (batch.length === 0) {
        await sleep(TICK_MS);
        continue;
      }
      try {
        await publish(batch);
      } catch {
        await sleep(100);
        continue;
      }
      raised.splice(0, batch.length);
      for (const message of batch) confirmed.set(message.id, Date.now());
    }
  })();
  return {
    confirmed,
    async stop(): Promise<void> {
      clearInterval(ticker);
      stopped = true;
      await sending;
    },
  };
}

forEachClient((flavour) => {
  const scenarios = [
    {
      appendOnly: true,
      gapsMs: [4_000, 4_000],
      title: 'appendonly on, 4 s gaps (longer than the 3 s lease TTL)',
    },
    {
      appendOnly: false,
      gapsMs: [1_000, 1_000],
      title: 'appendonly off, two 1 s gaps (all data lost each time)',
    },
  ];
  for (const scenario of scenarios) {
    describe(scenario.title, () => {
      const server = useRedisServer({ appendOnly: scenario.appendOnly, appendFsync: 'always' });
      const open = useTransports(flavour);

      it('keeps per-key order across Redis restarts, two consumers in one group, 30 keys at 300/s', async () => {
        const connection = { url: server().url };
        const prefix = uniquePrefix('outage');
        const watch = new OrderWatch();
        for (const consumer of [0, 1]) {
          await open(connection, prefix, { leaseTtlMs: LEASE_TTL_MS }).transport.subscribe(
            { topics: [TOPIC], group: GROUP, concurrency: CONCURRENCY },
            watch.handler(consumer),
          );
        }
        const { transport: publisher, redis } = open(connection, prefix, { publishTimeoutMs: 1_000 });
        const publishing = startPublishing((batch) => publisher.publish(batch));
        let restartedAt = 0;
        for (const gapMs of scenario.gapsMs) {
          // The first restart comes after a quiet start; later ones while the consumers work through the backlog
          // that piled up during the previous gap, with reads queued ahead of their handlers.
          const handledBefore = watch.handled.size;
          await sleep(restartedAt === 0 ? 1_000 : 0);
          await waitFor(() => watch.handled.size >= handledBefore + BUSY_AFTER, {
            timeoutMs: 20_000,
            message: () => `${BUSY_AFTER} more messages handled before restarting Redis`,
          });
          await restartAfter(server(), gapMs);
          restartedAt = Date.now();
        }
        await sleep(2_000);
        await publishing.stop();

        // With the data kept, every confirmed message must come; without, those confirmed after the last restart.
        const expected = [...publishing.confirmed]
          .filter(([, at]) => scenario.appendOnly || at > restartedAt)
          .map(([id]) => id);
        const missing = (): string[] => expected.filter((id) => !watch.handled.has(id));
        await waitFor(() => missing().length === 0, {
          timeoutMs: 20_000,
          intervalMs: 50,
          message: () => `${expected.length} messages handled (missing ${missing().slice(0, 10).join(', ')})`,
        }).catch(async (error: unknown) => {
          const state = await describeStreams(redis, prefix, TOPIC, GROUP, PARTITIONS);
          throw new Error(`${error instanceof Error ? error.message : String(error)}\nRedis now:\n${state}`);
        });
        console.info(
          `outage (${flavour.name}, ${scenario.title}): ${publishing.confirmed.size} confirmed, ${watch.handled.size} handled, ${
            watch.deliveries - watch.handled.size
          } redeliveries, ${watch.inversions.length} inversions, ${watch.overlaps.length} overlaps`,
        );
        expect(watch.inversions).toEqual([]);
        expect(watch.overlaps).toEqual([]);
        expect(missing()).toEqual([]);
      }, 60_000);
    });
  }
});

/** SIGKILLs the server, waits `gapMs`, starts it again on the same port and dir. */
async function restartAfter(server: RedisServer, gapMs: number): Promise<void> {
  await server.kill('SIGKILL');
  await sleep(gapMs);
  await server.restart();
}

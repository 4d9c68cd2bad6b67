import type { Delivery } from '@relaybus/core';
import { waitFor } from '@relaybus/core/testing';
import { DeliveryLog, messages } from '@relaybus/test-support';
import type { RedisTransportOptions } from '@relaybus/transport-redis';
import { describe, expect, it } from 'vitest';
import { forEachClient } from './support/for-each-client';
import { describeStreams } from './support/inspect';
import { useRedisServer } from './support/redis-server';
import { uniquePrefix, useTransports } from './support/transports';

const TOPIC = 'audit.recorded';
const PARTITIONS = 2;
const HELD = 4;
/** Small retention, trimmed often, so trimming runs many times while the held messages are pending. */
const OPTIONS: Partial<RedisTransportOptions> = {
  partitions: PARTITIONS,
  retention: { maxLen: 20 },
  trimIntervalMs: 100,
  leaseTtlMs: 1_000,
};

forEachClient((flavour) => {
  describe('retention trimming', () => {
    const server = useRedisServer();
    const open = useTransports(flavour);

    it('never removes pending messages: they are still delivered after many more were published and trimmed', async () => {
      const connection = { url: server().url };
      const prefix = uniquePrefix('trim');
      const fast = new DeliveryLog();
      const slow = new DeliveryLog();
      const held = new Set<string>();
      let holding = false;
      const never = new Promise<void>(() => {});
      const slowHandler = async (delivery: Delivery): Promise<void> => {
        slow.record(delivery);
        if (holding && held.size < HELD && !held.has(delivery.message.id)) {
          held.add(delivery.message.id);
          await never;
        }
        await delivery.ack();
      };
      await open(connection, prefix, OPTIONS).transport.subscribe(
        { topics: [TOPIC], group: 'fast', concurrency: 8 },
        fast.acking,
      );
      const holder = open(connection, prefix, OPTIONS);
      const holderSubscription = await holder.transport.subscribe(
        { topics: [TOPIC], group: 'slow', concurrency: HELD + 4, visibilityTimeoutMs: 60_000 },
        slowHandler,
      );
      const { transport: publisher, redis } = open(connection, prefix, OPTIONS);
      const sent: string[] = [];
      const publish = async (label: string, count: number): Promise<void> => {
        for (let start = 0; start < count; start += 100) {
          const batch = messages(TOPIC, label, Math.min(100, count - start), (n) => ({
            id: `${label}-${start + n}`,
          }));
          await publisher.publish(batch);
          sent.push(...batch.map((message) => message.id));
        }
      };
      const streamLength = async (): Promise<number> => {
        let total = 0;
        for (let p = 0; p < PARTITIONS; p++) total += await redis.xlen(`${prefix}:{${TOPIC}}:s:${p}`);
        return total;
      };

      // A: handled and acked by both groups, so retention may drop it.
      await publish('a', 600);
      await waitFor(() => fast.distinct === 600 && slow.distinct === 600, {
        timeoutMs: 10_000,
        message: () => `600 messages in both groups (fast ${fast.distinct}, slow ${slow.distinct})`,
      });
      // B: the slow group holds the first few unacked; C: many more, far beyond maxLen.
      holding = true;
      await publish('b', 20);
      await waitFor(() => held.size === HELD, {
        timeoutMs: 5_000,
        message: () => `${HELD} held (got ${held.size})`,
      });
      await publish('c', 2_000);
      await waitFor(() => fast.distinct === sent.length && slow.distinct === sent.length, {
        timeoutMs: 20_000,
        message: () => `${sent.length} in both groups (fast ${fast.distinct}, slow ${slow.distinct})`,
      });
      // Trimming did run: what was acked by every group before the held messages is gone.
      await waitFor(async () => (await streamLength()) <= sent.length - 200, {
        timeoutMs: 10_000,
        message: () => `the streams to be trimmed below ${sent.length - 200} entries`,
      });
      const lengthAfterTrim = await streamLength();

      // The held messages survived every trim: a new member of the group gets them once the holder is gone.
      await holderSubscription.close({ timeoutMs: 100 });
      const heir = new DeliveryLog();
      await open(connection, prefix, OPTIONS).transport.subscribe(
        { topics: [TOPIC], group: 'slow', concurrency: 8 },
        heir.acking,
      );
      await waitFor(() => [...held].every((id) => heir.has(id)), {
        timeoutMs: 15_000,
        message: () =>
          `the ${HELD} held messages redelivered (got ${[...held].filter((id) => heir.has(id)).join(', ') || 'none'})`,
      }).catch(async (error: unknown) => {
        const state = await describeStreams(redis, prefix, TOPIC, 'slow', PARTITIONS);
        throw new Error(`${error instanceof Error ? error.message : String(error)}\nRedis now:\n${state}`);
      });
      console.info(
        `trimming: ${sent.length} published, ${lengthAfterTrim} entries left after trimming, held ${[...held].join(', ')} redelivered`,
      );
      for (const id of held) {
        const attempts = heir.deliveries.filter((d) => d.id === id).map((d) => d.attempt);
        expect(Math.min(...attempts), `attempt of ${id}`).toBeGreaterThanOrEqual(2);
      }
      expect(lengthAfterTrim).toBeLessThan(sent.length);
      expect(fast.missing(sent)).toEqual([]);
      expect(slow.missing(sent)).toEqual([]);
    }, 60_000);

    it('keeps what a declared group has not read yet, while none of its members runs', async () => {
      const connection = { url: server().url };
      const prefix = uniquePrefix('trim-declared');
      const OTHER = 'audit.exported';
      const { transport: publisher, redis } = open(connection, prefix, OPTIONS);
      await publisher.declareGroup({ group: 'archive', topics: [TOPIC], startFrom: 'latest' });
      // Another group reads both topics and trims them; only TOPIC has the declared group.
      const fast = new DeliveryLog();
      await open(connection, prefix, OPTIONS).transport.subscribe(
        { topics: [TOPIC, OTHER], group: 'fast', concurrency: 8 },
        fast.acking,
      );
      const kept = messages(TOPIC, 'kept', 600);
      const other = messages(OTHER, 'other', 600);
      for (let start = 0; start < 600; start += 100) {
        await publisher.publish([...kept.slice(start, start + 100), ...other.slice(start, start + 100)]);
      }
      await waitFor(() => fast.distinct === 1_200, {
        timeoutMs: 10_000,
        message: () => `1200 messages in group "fast" (got ${fast.distinct})`,
      });
      const length = async (topic: string): Promise<number> => {
        let total = 0;
        for (let p = 0; p < PARTITIONS; p++) total += await redis.xlen(`${prefix}:{${topic}}:s:${p}`);
        return total;
      };
      // Trimming runs: the topic without a declared group shrinks ...
      await waitFor(async () => (await length(OTHER)) <= 400, {
        timeoutMs: 10_000,
        message: 'the topic without a declared group to be trimmed',
      });
      await new Promise((resolve) => setTimeout(resolve, 3 * (OPTIONS.trimIntervalMs ?? 0)));
      // ... while every entry the declared group has not read stays, and its first member gets them all.
      expect(await length(TOPIC)).toBeGreaterThanOrEqual(600);
      const archive = new DeliveryLog();
      await open(connection, prefix, OPTIONS).transport.subscribe(
        { topics: [TOPIC], group: 'archive', concurrency: 8 },
        archive.acking,
      );
      await waitFor(() => archive.distinct === 600, {
        timeoutMs: 10_000,
        message: () => `the 600 messages in the declared group (got ${archive.distinct})`,
      });
      expect(archive.missing(kept.map((message) => message.id))).toEqual([]);
    }, 60_000);
  });
});

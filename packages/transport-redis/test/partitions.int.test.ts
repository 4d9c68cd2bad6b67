import type { Delivery } from '@relaybus/core';
import { waitFor } from '@relaybus/core/testing';
import { describe, expect, it } from 'vitest';
import { message, Received, useRedis } from './redis-fixture';
import { forEachClient } from './support/for-each-client';

const TOPIC = 'task.updated';
forEachClient((flavour) => {
  const { redis, prefix, open } = useRedis('partitions', flavour);

  /** Lease owners of `group` on `topic`, by partition. */
  async function owners(keyPrefix: string, group: string): Promise<Map<string, string>> {
    const leases = await redis.hgetall(`${keyPrefix}:{${TOPIC}}:l:${group}`);
    const owned = new Map<string, string>();
    for (const [partition, value] of Object.entries(leases)) {
      if (partition !== 'seq') owned.set(partition, value.split('|')[0] ?? '');
    }
    return owned;
  }

  function countsPerOwner(owned: Map<string, string>): number[] {
    const counts = new Map<string, number>();
    for (const owner of owned.values()) counts.set(owner, (counts.get(owner) ?? 0) + 1);
    return [...counts.values()].sort();
  }

  describe('partition leases', () => {
    it('rebalance when a member joins and when one leaves; each key stays with one member', async () => {
      const keyPrefix = prefix();
      const first = new Received();
      const second = new Received();
      const options = { partitions: 4 };
      await open(keyPrefix, options).subscribe({ topics: [TOPIC], group: 'g', concurrency: 4 }, first.acking);
      await waitFor(async () => (await owners(keyPrefix, 'g')).size === 4, {
        message: 'one member owning all 4',
      });
      expect(countsPerOwner(await owners(keyPrefix, 'g'))).toEqual([4]);

      const joining = open(keyPrefix, options);
      const subscription = await joining.subscribe(
        { topics: [TOPIC], group: 'g', concurrency: 4 },
        second.acking,
      );
      await waitFor(async () => countsPerOwner(await owners(keyPrefix, 'g')).join() === '2,2', {
        timeoutMs: 5_000,
        message: 'two members owning 2 partitions each',
      });

      const publisher = open(keyPrefix, options);
      const keys = Array.from({ length: 20 }, (_, index) => `key-${index}`);
      const sent = keys.flatMap((key) => [0, 1, 2].map((n) => message(TOPIC, `${key}-${n}`, key)));
      await publisher.publish(sent);
      await waitFor(() => first.entries.length + second.entries.length >= sent.length, {
        message: 'every message handled by one of the two members',
      });
      expect(first.entries.length).toBeGreaterThan(0);
      expect(second.entries.length).toBeGreaterThan(0);
      for (const key of keys) {
        const handledBy = [first, second].filter((member) =>
          member.entries.some((entry) => entry.key === key),
        );
        expect(handledBy.length, `${key} is handled by exactly one member`).toBe(1);
      }

      await subscription.close();
      await waitFor(async () => countsPerOwner(await owners(keyPrefix, 'g')).join() === '4', {
        timeoutMs: 5_000,
        message: 'the remaining member owning all 4 partitions again',
      });
      const later = keys.map((key) => message(TOPIC, `${key}-later`, key));
      await publisher.publish(later);
      await waitFor(() => later.every((m) => first.ids().includes(m.id)), {
        message: 'messages of every key reaching the remaining member',
      });
    });

    it('a new owner handles the previous owner’s unsettled messages first, in order, with their attempts', async () => {
      const keyPrefix = prefix();
      const options = { partitions: 1 };
      const held: Delivery[] = [];
      const owner = open(keyPrefix, options);
      const subscription = await owner.subscribe(
        { topics: [TOPIC], group: 'g', concurrency: 1 },
        (delivery) => {
          held.push(delivery);
          return new Promise<void>(() => {});
        },
      );
      const publisher = open(keyPrefix, options);
      const first = ['x-1', 'x-2', 'x-3', 'x-4', 'x-5'].map((id) => message(TOPIC, id, 'x'));
      await publisher.publish(first);
      await waitFor(() => held.length === 1, { message: 'the first message held by its handler' });
      await subscription.close({ timeoutMs: 50 });
      expect(held[0]?.signal.aborted).toBe(true);

      const next = new Received();
      await open(keyPrefix, options).subscribe({ topics: [TOPIC], group: 'g', concurrency: 4 }, next.acking);
      await publisher.publish([message(TOPIC, 'x-6', 'x')]);
      await waitFor(() => next.entries.length >= 6, { message: 'all six messages at the new owner' });
      expect(next.entries.map((entry) => `${entry.id}#${entry.attempt}`)).toEqual([
        'x-1#2',
        'x-2#1',
        'x-3#1',
        'x-4#1',
        'x-5#1',
        'x-6#1',
      ]);
    });
  });
});

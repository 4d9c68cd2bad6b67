import type { Delivery } from '@relaybus/core';
import { waitFor } from '@relaybus/core/testing';
import { describe, expect, it } from 'vitest';
import { message, Received, useRedis } from './redis-fixture';
import { forEachClient } from './support/for-each-client';

const TOPIC = 'task.scheduled';
forEachClient((flavour) => {
  const { redis, prefix, open } = useRedis('delays', flavour);

  describe('nack with a delay', () => {
    it('holds later messages of the key until the retry, without blocking other keys', async () => {
      const keyPrefix = prefix();
      const transport = open(keyPrefix, { partitions: 2 });
      const handled: string[] = [];
      let nackedAt = 0;
      await transport.subscribe({ topics: [TOPIC], group: 'g', concurrency: 4 }, (delivery: Delivery) => {
        const { id } = delivery.message;
        if (id === 'k-1' && delivery.attempt === 1) {
          nackedAt = Date.now();
          return delivery.nack({ delayMs: 150 });
        }
        handled.push(`${id}#${delivery.attempt}@${Date.now() - nackedAt >= 140 ? 'late' : 'early'}`);
        return delivery.ack();
      });
      await transport.publish([
        ...['k-0', 'k-1', 'k-2', 'k-3'].map((id) => message(TOPIC, id, 'k')),
        ...['j-0', 'j-1'].map((id) => message(TOPIC, id, 'j')),
      ]);
      await waitFor(() => handled.length === 6, { message: 'six handled messages' });
      const ofKey = handled.filter((entry) => entry.startsWith('k-'));
      expect(ofKey.map((entry) => entry.split('@')[0])).toEqual(['k-0#1', 'k-1#2', 'k-2#1', 'k-3#1']);
      expect(ofKey.slice(1).every((entry) => entry.endsWith('late'))).toBe(true);
      expect(
        handled.filter((entry) => entry.startsWith('j-')).every((entry) => entry.endsWith('early')),
      ).toBe(true);
    });
  });

  describe('dead letters', () => {
    it('redrive sends a letter back to the group it failed in only', async () => {
      const keyPrefix = prefix();
      const transport = open(keyPrefix);
      const failing = new Received();
      const other = new Received();
      let fail = true;
      await transport.subscribe({ topics: [TOPIC], group: 'failing' }, (delivery) => {
        failing.add(delivery);
        return fail
          ? delivery.deadLetter({ reason: 'REJECTED', error: { name: 'Error', message: 'no' } })
          : delivery.ack();
      });
      await transport.subscribe({ topics: [TOPIC], group: 'other' }, other.acking);
      await transport.publish([message(TOPIC, 'm-1')]);
      await waitFor(async () => (await transport.deadLetters.list()).length === 1, {
        message: 'a dead letter',
      });
      fail = false;
      expect(await transport.deadLetters.redrive({ group: 'failing' })).toBe(1);
      await waitFor(() => failing.entries.length === 2, { message: 'the redriven message' });
      expect(failing.entries.map((entry) => entry.attempt)).toEqual([1, 1]);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(other.ids()).toEqual(['m-1']);
      expect(await transport.deadLetters.list()).toEqual([]);
    });
  });

  describe('retention', () => {
    const stream = (keyPrefix: string): string => `${keyPrefix}:{${TOPIC}}:s:0`;
    const options = { partitions: 1, retention: { maxLen: 1 }, trimIntervalMs: 50 } as const;

    it('never trims entries still pending in a group; trims once they are acked', async () => {
      const keyPrefix = prefix();
      const transport = open(keyPrefix, options);
      let release: () => void = () => {};
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      let handled = 0;
      await transport.subscribe({ topics: [TOPIC], group: 'g', concurrency: 1 }, async (delivery) => {
        await gate;
        handled++;
        await delivery.ack();
      });
      await transport.publish(Array.from({ length: 300 }, (_, n) => message(TOPIC, `m-${n}`)));
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await redis.xlen(stream(keyPrefix))).toBe(300);
      release();
      await waitFor(() => handled === 300, { message: 'all 300 handled' });
      await waitFor(async () => (await redis.xlen(stream(keyPrefix))) < 300, {
        message: 'trimming after the group acked everything',
      });
    });

    it('keeps what a group without members has not read yet', async () => {
      const keyPrefix = prefix();
      const transport = open(keyPrefix, options);
      const absent = await transport.subscribe({ topics: [TOPIC], group: 'absent' }, (d) => d.ack());
      await absent.close();
      const present = new Received();
      await transport.subscribe({ topics: [TOPIC], group: 'present', concurrency: 8 }, present.acking);
      const sent = Array.from({ length: 300 }, (_, n) => message(TOPIC, `m-${n}`));
      await transport.publish(sent);
      await waitFor(() => present.entries.length === 300, { message: 'the present group handling all' });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await redis.xlen(stream(keyPrefix))).toBe(300);
      const back = new Received();
      await open(keyPrefix, options).subscribe(
        { topics: [TOPIC], group: 'absent', concurrency: 8 },
        back.acking,
      );
      await waitFor(() => back.entries.length === 300, { message: 'the returning group receiving all 300' });
    });
  });
});

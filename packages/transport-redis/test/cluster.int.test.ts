import { describeTransportConformance, waitFor } from '@relaybus/core/testing';
import { DeliveryLog, messages } from '@relaybus/test-support';
import { redisTransport } from '@relaybus/transport-redis';
import type { Cluster } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { forEachClient } from './support/for-each-client';
import { namesOnTwoMasters, startRedisCluster } from './support/redis-cluster';
import { closingClient, newClient, uniquePrefix, useTransports } from './support/transports';

// Started while the file is collected, not in beforeAll: the conformance suite reads the transport's
// capabilities from a real instance when it registers its tests.
const cluster = await startRedisCluster({ masters: 3 });
afterAll(() => cluster.stop());
const connection = { cluster: cluster.nodes };

forEachClient((flavour) => {
  describe('redisTransport on a 3-master Redis Cluster', () => {
    const open = useTransports(flavour);

    it('delivers every message to a group-less subscriber, on every topic it asked for', async () => {
      const prefix = uniquePrefix('cluster-pubsub');
      const { transport } = open(connection, prefix);
      const { transport: publisher, redis: client } = open(connection, prefix);
      if (!client.isCluster) throw new Error('expected a Cluster client');
      const redis = client as Cluster;
      // Two topics whose hash tags live on different masters, so the run really spans nodes.
      const [first, second] = await namesOnTwoMasters(redis, (n) => `task.${n}`);
      const log = new DeliveryLog();
      await transport.subscribe({ topics: [first, second] }, log.acking);
      const sent = [...messages(first, 'first', 50), ...messages(second, 'second', 50)];
      await publisher.publish(sent);
      await waitFor(() => log.distinct === sent.length, {
        timeoutMs: 10_000,
        message: () => `${sent.length} messages (got ${log.distinct})`,
      });
      expect(log.missing(sent.map((message) => message.id))).toEqual([]);
      expect(log.duplicates).toBe(0);
      // The transport's keys live on more than one master.
      const keysPerMaster = await Promise.all(redis.nodes('master').map((node) => node.keys(`${prefix}:*`)));
      expect(keysPerMaster.filter((keys) => keys.length > 0).length).toBeGreaterThanOrEqual(2);
    });

    it('hands each message to one member per group, and every group gets all of them', async () => {
      const prefix = uniquePrefix('cluster-groups');
      const mail = [new DeliveryLog(), new DeliveryLog()];
      const audit = new DeliveryLog();
      for (const member of mail) {
        await open(connection, prefix).transport.subscribe(
          { topics: ['task.created'], group: 'mail', concurrency: 4 },
          member.acking,
        );
      }
      await open(connection, prefix).transport.subscribe(
        { topics: ['task.created'], group: 'audit' },
        audit.acking,
      );
      const sent = messages('task.created', 'g', 200);
      const { transport: publisher } = open(connection, prefix);
      for (let start = 0; start < sent.length; start += 20)
        await publisher.publish(sent.slice(start, start + 20));
      const mailIds = (): string[] => mail.flatMap((member) => member.deliveries.map((d) => d.id));
      await waitFor(() => new Set(mailIds()).size === sent.length && audit.distinct === sent.length, {
        timeoutMs: 10_000,
        message: () =>
          `200 messages in each group (mail ${new Set(mailIds()).size}, audit ${audit.distinct})`,
      });
      expect(mailIds().sort()).toEqual(sent.map((message) => message.id).sort());
      expect(audit.missing(sent.map((message) => message.id))).toEqual([]);
      expect(audit.duplicates).toBe(0);
    });

    it('keeps per-key publish order within a group, with several consumers', async () => {
      const prefix = uniquePrefix('cluster-order');
      const { transport: probe } = open(connection, prefix);
      expect(probe.capabilities.orderedByKey).toBe(true);
      const log = new DeliveryLog();
      const handle = async (delivery: Parameters<DeliveryLog['acking']>[0]): Promise<void> => {
        log.record(delivery);
        // Uneven handling times: order must come from the transport, not from luck.
        await new Promise((resolve) => setTimeout(resolve, Number(delivery.message.id.split('-')[2]) % 3));
        await delivery.ack();
      };
      for (let index = 0; index < 2; index++) {
        await open(connection, prefix).transport.subscribe(
          { topics: ['task.updated'], group: 'projector', concurrency: 8 },
          handle,
        );
      }
      const keys = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot'];
      const perKey = 30;
      const sent = Array.from({ length: perKey }, (_, n) =>
        keys.map((key) => ({ id: `${key}-n-${n}`, topic: 'task.updated', key, body: { key, n } })),
      ).flat();
      const { transport: publisher } = open(connection, prefix);
      for (let start = 0; start < sent.length; start += 12)
        await publisher.publish(sent.slice(start, start + 12));
      await waitFor(() => log.distinct === sent.length, {
        timeoutMs: 15_000,
        message: () => `${sent.length} keyed messages (got ${log.distinct})`,
      });
      for (const key of keys) {
        const order = log.deliveries.filter((d) => d.key === key).map((d) => Number(d.id.split('-')[2]));
        expect(order, `order of key ${key}`).toEqual(Array.from({ length: perKey }, (_, n) => n));
      }
    });

    it('delivers delayed messages no earlier than their delay, and then promptly', async () => {
      const prefix = uniquePrefix('cluster-delay');
      const log = new DeliveryLog();
      await open(connection, prefix).transport.subscribe(
        { topics: ['reminder.due'], group: 'reminders' },
        log.acking,
      );
      const { transport: publisher } = open(connection, prefix);
      const publishedAt = Date.now();
      await publisher.publish([
        ...messages('reminder.due', 'later', 5, () => ({ delayMs: 800 })),
        ...messages('reminder.due', 'now', 5),
      ]);
      await waitFor(() => log.distinct === 10, {
        timeoutMs: 10_000,
        message: () => `10 messages, 5 of them delayed 800 ms (got ${log.distinct})`,
      });
      for (const delivery of log.deliveries) {
        if (delivery.id.startsWith('later-')) {
          expect(delivery.at - publishedAt, `${delivery.id} not early`).toBeGreaterThanOrEqual(800 - 20);
        }
      }
      const firstLater = log.deliveries.findIndex((d) => d.id.startsWith('later-'));
      const lastNow = log.deliveries.findLastIndex((d) => d.id.startsWith('now-'));
      expect(firstLater).toBeGreaterThan(lastNow);
    });
  });

  describeTransportConformance(
    'redis (3-master cluster)',
    ({ namespace }) => {
      const redis = newClient(connection, flavour);
      return closingClient(redisTransport({ redis, prefix: `rb-conf:${namespace}` }), redis);
    },
    { timeoutScale: 2, visibilityTimeoutMs: 1_000 },
  );
});

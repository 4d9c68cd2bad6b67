import { waitFor } from '@relaybus/core/testing';
import { DeliveryLog, messages } from '@relaybus/test-support';
import type { Cluster, Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { forEachClient } from './support/for-each-client';
import { describeStreams } from './support/inspect';
import { useProxiedRedis } from './support/proxied-redis';
import type { ProxyLink, TcpProxy } from './support/tcp-proxy';
import { uniquePrefix } from './support/transports';

const TOPIC = 'invoice.issued';
const GROUP = 'billing';
const PARTITIONS = 2;
const VISIBILITY_TIMEOUT_MS = 1_000;

forEachClient((flavour) => {
  describe('a connection lost while a read reply is on its way', () => {
    const { server, open, startProxy } = useProxiedRedis(flavour);

    it('still delivers the entries Redis handed to the lost read, to the same live consumer', async () => {
      const proxy = await startProxy();
      {
        const prefix = uniquePrefix('lost-reply');
        const options = { partitions: PARTITIONS };
        const log = new DeliveryLog();
        // The consumer reaches Redis through the proxy; the publisher and the checks go direct.
        await open({ url: proxy.url }, prefix, options).transport.subscribe(
          { topics: [TOPIC], group: GROUP, concurrency: 4, visibilityTimeoutMs: VISIBILITY_TIMEOUT_MS },
          log.acking,
        );
        const { transport: publisher, redis } = open({ url: server().url }, prefix, options);
        const first = messages(TOPIC, 'before', 10);
        await publisher.publish(first);
        await waitFor(() => log.distinct === first.length, {
          timeoutMs: 5_000,
          message: () => `the first ${first.length} messages (got ${log.distinct})`,
        });

        // Only the consumer's read connection fails: Redis serves its blocked XREADGROUP (the entries become
        // pending for this consumer), the reply never arrives, then the connection drops. Its other connections
        // (lease heartbeats, acks) stay healthy, so it keeps its partitions, as after a short network blip.
        const reader = await readerLink(proxy, redis);
        reader.freeze();
        const lost = messages(TOPIC, 'lost', 20);
        await publisher.publish(lost);
        let lastPending = -1;
        const pending = async (): Promise<number> => {
          let total = 0;
          for (let p = 0; p < PARTITIONS; p++) {
            const summary = (await redis.xpending(`${prefix}:{${TOPIC}}:s:${p}`, GROUP)) as [number];
            total += Number(summary[0]);
          }
          lastPending = total;
          return total;
        };
        // A blocked read is served as soon as the first entry lands, so the lost reply holds at least that one.
        await waitFor(async () => (await pending()) > 0, {
          timeoutMs: 5_000,
          message: () => `Redis to hand new entries to the consumer's blocked read (${lastPending} pending)`,
        });
        const lostPending = lastPending;
        reader.cut();
        const cutAt = Date.now();

        const after = messages(TOPIC, 'after', 10);
        await publisher.publish(after);
        const expected = [...first, ...lost, ...after].map((message) => message.id);
        await waitFor(() => log.missing(expected).length === 0, {
          timeoutMs: 10 * VISIBILITY_TIMEOUT_MS + 5_000,
          intervalMs: 20,
          message: () => `every message after the reconnect (missing ${log.missing(expected).join(', ')})`,
        }).catch(async (error: unknown) => {
          const state = await describeStreams(redis, prefix, TOPIC, GROUP, PARTITIONS);
          throw new Error(`${error instanceof Error ? error.message : String(error)}\nRedis now:\n${state}`);
        });
        expect(log.missing(expected)).toEqual([]);
        expect(proxy.opened()).toBeGreaterThan(2);
        const late = log.deliveries.filter((d) => d.id.startsWith('lost-'));
        console.info(
          `lost reply: ${lostPending} entries pending for the lost read; redelivered after ${
            Math.max(...late.map((d) => d.at)) - cutAt
          } ms, attempts ${late.map((d) => d.attempt).join(',')}`,
        );
      }
    }, 30_000);
  });

  /** The proxy link carrying the consumer's blocked XREADGROUP, found by its port in `CLIENT LIST`. */
  async function readerLink(proxy: TcpProxy, redis: Redis | Cluster): Promise<ProxyLink> {
    let found: ProxyLink | undefined;
    await waitFor(
      async () => {
        const clients = String(await redis.call('CLIENT', 'LIST')).split('\n');
        const ports = clients
          .filter((line) => / cmd=xreadgroup /.test(line) && / flags=b /.test(line))
          .map((line) => Number(/ addr=127\.0\.0\.1:(\d+) /.exec(line)?.[1]));
        found = proxy.links().find((link) => ports.includes(link.upstreamPort ?? -1));
        return found !== undefined;
      },
      { timeoutMs: 5_000, message: 'the consumer to block in XREADGROUP through the proxy' },
    );
    return found as ProxyLink;
  }

  describe('a publish whose reply never comes', () => {
    const { open, startProxy } = useProxiedRedis(flavour);

    it('fails every call of the batch with a TransportError after publishTimeoutMs, then works again', async () => {
      const proxy = await startProxy();
      const prefix = uniquePrefix('publish-timeout');
      const { transport, redis } = open({ url: proxy.url }, prefix, { publishTimeoutMs: 300 });
      await transport.publish(messages(TOPIC, 'before', 1));
      const [link] = proxy.links();
      link?.freeze();
      const started = Date.now();
      // Two calls in one turn share one pipeline, and both time out.
      const outcomes = await Promise.allSettled([
        transport.publish(messages(TOPIC, 'lost-a', 3)),
        transport.publish(messages(TOPIC, 'lost-b', 2)),
      ]);
      const elapsed = Date.now() - started;
      for (const outcome of outcomes) {
        expect(outcome.status).toBe('rejected');
        const reason = (outcome as PromiseRejectedResult).reason as Error;
        expect(reason).toMatchObject({ name: 'TransportError', code: 'TRANSPORT_FAILED' });
        expect(reason.message).toMatch(
          /not confirmed within publishTimeoutMs 300.*may or may not have been written/,
        );
      }
      expect(elapsed).toBeGreaterThanOrEqual(290);
      expect(elapsed).toBeLessThan(2_000);
      // The link is cut, the client reconnects, and publishing works again.
      link?.cut();
      await waitFor(async () => (await redis.ping().catch(() => '')) === 'PONG', {
        timeoutMs: 5_000,
        message: 'the client to reconnect',
      });
      await expect(transport.publish(messages(TOPIC, 'after', 1))).resolves.toBeUndefined();
    });
  });
});

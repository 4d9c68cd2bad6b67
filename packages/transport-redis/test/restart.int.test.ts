import { type Logger, silentLogger } from '@relaybus/core';
import { waitFor } from '@relaybus/core/testing';
import { DeliveryLog, messages } from '@relaybus/test-support';
import { describe, expect, it } from 'vitest';
import { forEachClient } from './support/for-each-client';
import { describeStreams } from './support/inspect';
import { startRedisServer, useRedisServer } from './support/redis-server';
import { uniquePrefix, useTransports } from './support/transports';

const TOPIC = 'order.placed';
const GROUP = 'fulfilment';
const TOTAL = 10_000;
const PUBLISH_BATCH = 100;
const CONSUMERS = 2;
const CONCURRENCY = 8;
/** The transport's read-ahead (`prefetch`): the most a consumer has read but not handled. */
const READ_BATCH = 100;
const VISIBILITY_TIMEOUT_MS = 2_000;
/** Redis is restarted when this many distinct messages were handled: three times in the run. */
const RESTART_AFTER_HANDLED = [2_500, 5_000, 7_500];
const DOWNTIME_MS = 500;
/** The transport's default partition count, for reading its streams in failure messages. */
const PARTITIONS = 8;

forEachClient((flavour) => {
  describe('Redis restarted in the middle of a run', () => {
    // appendfsync always: every write Redis acknowledged is on disk, so even SIGKILL loses none of it.
    const server = useRedisServer({ appendOnly: true, appendFsync: 'always' });
    const open = useTransports(flavour);

    it(`delivers all ${TOTAL.toLocaleString('en-US')} messages, with duplicates only for those in flight`, async () => {
      const connection = { url: server().url };
      const prefix = uniquePrefix('restart');
      const log = new DeliveryLog();
      const health: string[] = [];
      const logger: Logger = {
        debug: () => {},
        info: (message) => health.push(`info ${message}`),
        warn: (message) => health.push(`warn ${message}`),
        error: (message) => health.push(`error ${message}`),
      };
      for (let index = 0; index < CONSUMERS; index++) {
        const { transport } = open(connection, prefix, { prefetch: READ_BATCH, logger });
        await transport.subscribe(
          {
            topics: [TOPIC],
            group: GROUP,
            concurrency: CONCURRENCY,
            visibilityTimeoutMs: VISIBILITY_TIMEOUT_MS,
          },
          log.acking,
        );
      }
      const { transport: publisher, redis: publisherRedis } = open(connection, prefix);
      const all = messages(TOPIC, 'm', TOTAL);

      // The publisher pauses while Redis is down (a publish that fails there would be retried, and a retried
      // XADD is a second entry), so every duplicate counted below comes from consumers.
      let gate: Promise<void> = Promise.resolve();
      let publishing: Promise<void> = Promise.resolve();
      let published = 0;
      const publishAll = (async () => {
        for (let start = 0; start < TOTAL; start += PUBLISH_BATCH) {
          await gate;
          publishing = publisher.publish(all.slice(start, start + PUBLISH_BATCH));
          await publishing;
          published = start + PUBLISH_BATCH;
          if (start % 1_000 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
        }
      })();

      const handledAtRestart: number[] = [];
      for (const [index, threshold] of RESTART_AFTER_HANDLED.entries()) {
        await waitFor(() => log.distinct >= threshold, {
          timeoutMs: 30_000,
          message: () => `${threshold} messages handled before restart ${index + 1} (got ${log.distinct})`,
        });
        let reopen = (): void => {};
        gate = new Promise((resolve) => {
          reopen = resolve;
        });
        await publishing;
        handledAtRestart.push(log.distinct);
        // SIGKILL (nothing flushed but what appendfsync already wrote) and a graceful shutdown, in turn.
        if (index % 2 === 0) await server().kill('SIGKILL');
        else await server().kill('SIGTERM');
        await new Promise((resolve) => setTimeout(resolve, DOWNTIME_MS));
        await server().restart();
        reopen();
      }
      await publishAll;
      expect(published).toBe(TOTAL);

      await waitFor(() => log.distinct === TOTAL, {
        timeoutMs: 30_000,
        intervalMs: 20,
        message: () => {
          const missing = log.missing(all.map((message) => message.id));
          return `all ${TOTAL} messages handled after the restart (${missing.length} missing: ${missing.slice(0, 20).join(', ')})`;
        },
      }).catch(async (error: unknown) => {
        const state = await describeStreams(publisherRedis, prefix, TOPIC, GROUP, PARTITIONS);
        throw new Error(`${error instanceof Error ? error.message : String(error)}\nRedis now:\n${state}`);
      });
      // Only what was handled but not yet acked when Redis went down can come again: per restart, at most the
      // deliveries in flight (concurrency x consumers) plus one read batch.
      const bound = RESTART_AFTER_HANDLED.length * (CONCURRENCY * CONSUMERS + READ_BATCH);
      console.info(
        `restart: restarted at ${handledAtRestart.join(', ')} handled; ${log.duplicates} duplicate deliveries (bound ${bound})`,
      );
      expect(log.distinct).toBe(TOTAL);
      expect(log.duplicates).toBeLessThanOrEqual(bound);
      // An operator sees each outage, naming the address, and each recovery; nothing at error level.
      const address = `127.0.0.1:${server().port}`;
      expect(
        health.filter((line) => line.startsWith('warn') && line.includes(`Redis at ${address} failed`))
          .length,
      ).toBeGreaterThanOrEqual(RESTART_AFTER_HANDLED.length);
      expect(
        health.filter((line) => line.startsWith('info') && line.includes(`Redis at ${address} works again`))
          .length,
      ).toBeGreaterThanOrEqual(RESTART_AFTER_HANDLED.length);
      expect(health.filter((line) => line.startsWith('error'))).toEqual([]);
      expect(Math.max(...handledAtRestart)).toBeLessThan(TOTAL);
    }, 90_000);
  });

  describe('Redis down for good', () => {
    const open = useTransports(flavour);

    it('does not keep close({ timeoutMs }) waiting on Redis', async () => {
      // Its own server: this test kills it and never brings it back.
      const server = await startRedisServer();
      try {
        const { transport } = open({ url: server.url }, uniquePrefix('down'), { logger: silentLogger });
        const log = new DeliveryLog();
        await transport.subscribe({ topics: [TOPIC], group: GROUP, concurrency: 2 }, log.acking);
        await transport.publish(messages(TOPIC, 'm', 5));
        await waitFor(() => log.distinct === 5, { timeoutMs: 5_000, message: '5 messages handled' });
        await server.kill('SIGKILL');
        const closeTimeoutMs = 1_000;
        const closed = transport.close({ timeoutMs: closeTimeoutMs }).then(() => 'closed' as const);
        const bound = new Promise<'still waiting'>((resolve) =>
          setTimeout(() => resolve('still waiting'), closeTimeoutMs + 5_000),
        );
        expect(await Promise.race([closed, bound])).toBe('closed');
      } finally {
        await server.stop();
      }
    }, 20_000);
  });
});

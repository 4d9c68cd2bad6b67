import { besideModule, expectKilledConsumerLosesNothing, startConsumerProcess } from '@relaybus/test-support';
import { describe, it } from 'vitest';
import type { RedisConsumer } from './support/consumer-main';
import { forEachClient } from './support/for-each-client';
import { useRedisServer } from './support/redis-server';
import { uniquePrefix, useTransports } from './support/transports';

const CONSUMER_MAIN = besideModule(import.meta.url, 'support/consumer-main.ts');
/** Bound on redelivery after the kill: the visibility timeout plus generous room for reclaim passes. */
const REDELIVERY_BOUND_MS = 15_000;

forEachClient((flavour) => {
  describe('a consumer process killed with SIGKILL', () => {
    const server = useRedisServer();
    const open = useTransports(flavour);

    it('has its unacked messages redelivered to the survivor within seconds, and none is lost', async () => {
      const connection = { url: server().url };
      const prefix = uniquePrefix('kill');
      await expectKilledConsumerLosesNothing({
        topic: 'job.created',
        group: 'workers',
        concurrency: 8,
        visibilityTimeoutMs: 1_000,
        redeliveryBoundMs: REDELIVERY_BOUND_MS,
        startVictim: (subscription) =>
          startConsumerProcess<RedisConsumer>(CONSUMER_MAIN, {
            transport: { connection, flavour, prefix },
            ...subscription,
          }),
        survivor: open(connection, prefix).transport,
        publisher: open(connection, prefix).transport,
      });
    }, 40_000);
  });
});

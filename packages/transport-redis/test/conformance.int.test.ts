import { describeTransportConformance } from '@relaybus/core/testing';
import { redisTransport } from '@relaybus/transport-redis';
import { afterAll } from 'vitest';
import { unlinkUnder } from './redis-fixture';
import {
  IOREDIS_5,
  IOREDIS_6,
  IOREDIS_6_0,
  IOREDIS_6_PROTOCOL_2,
  IOREDIS_6_RESP3_REPLIES,
  newClient,
} from './support/client';
import { forEachClient } from './support/for-each-client';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

// Every reply shape the transport must read: RESP2 (ioredis 5, and 6 with protocol 2), and RESP3 with maps as
// pairs (ioredis 6.1's default), as one flat list (6.0's default) or as plain objects (replyMapping 'resp3').
forEachClient(
  (flavour) => {
    const runPrefix = `rb-test:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
    // One client for every instance: the transport never blocks it (each instance reads on its own duplicates), so
    // instances on one client still act as separate processes.
    const redis = newClient({ url: REDIS_URL }, flavour);

    afterAll(async () => {
      await unlinkUnder(redis, runPrefix);
      await redis.quit();
    });

    describeTransportConformance(
      'redis',
      ({ namespace }) =>
        redisTransport({
          redis,
          prefix: `${runPrefix}:${namespace}`,
          blockMs: 500,
          leaseTtlMs: 1_500,
          delayPollIntervalMs: 20,
          topicRefreshIntervalMs: 200,
        }),
      { sharedBackend: true, timeoutScale: 2 },
    );
  },
  [IOREDIS_5, IOREDIS_6, IOREDIS_6_PROTOCOL_2, IOREDIS_6_RESP3_REPLIES, IOREDIS_6_0],
);

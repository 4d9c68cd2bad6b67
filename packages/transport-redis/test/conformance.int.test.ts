import { describeTransportConformance } from '@relaybus/core/testing';
import { redisTransport } from '@relaybus/transport-redis';
import { Redis } from 'ioredis';
import { afterAll } from 'vitest';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const runPrefix = `rb-test:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
// One client for every instance: the transport never blocks it (each instance reads on its own duplicates), so
// instances on one client still act as separate processes.
const redis = new Redis(REDIS_URL);

afterAll(async () => {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${runPrefix}:*`, 'COUNT', 1_000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
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

import type { Cluster, Redis } from 'ioredis';
import { afterAll } from 'vitest';
import { unlinkUnder } from '../redis-fixture';
import { type ClientFlavour, newClient } from './client';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/**
 * One client of `flavour` on the shared Redis for a whole suite, with a key prefix unique to this run: every key
 * under it is unlinked and the client quit after the file (or `describe`).
 *
 * @example
 * ```ts
 * const { redis, runPrefix } = useRunClient(flavour);
 * describeTransportConformance('redis', ({ namespace }) => redisTransport({ redis, prefix: `${runPrefix}:${namespace}` }));
 * ```
 */
export function useRunClient(flavour: ClientFlavour): {
  readonly redis: Redis | Cluster;
  readonly runPrefix: string;
} {
  const runPrefix = `rb-test:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  const redis = newClient({ url: REDIS_URL }, flavour);
  afterAll(async () => {
    await unlinkUnder(redis, runPrefix);
    await redis.quit();
  });
  return { redis, runPrefix };
}

import type { Delivery, Transport } from '@relaybus/core';
import { type RedisTransportOptions, redisTransport } from '@relaybus/transport-redis';
import type { Cluster, Redis } from 'ioredis';
import { afterAll, afterEach } from 'vitest';
import { type ClientFlavour, IOREDIS_5, newClient } from './support/client';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/** Options that make leases, delays and reads fast enough for tests. */
export const FAST: Partial<RedisTransportOptions> = {
  blockMs: 500,
  leaseTtlMs: 1_000,
  delayPollIntervalMs: 20,
  topicRefreshIntervalMs: 200,
};

/**
 * A shared client of `flavour` on the shared Redis, a unique key prefix per test, transports closed after each test
 * and every key under the file's prefix removed (SCAN + UNLINK) after the file.
 */
export function useRedis(
  label: string,
  flavour: ClientFlavour = IOREDIS_5,
): {
  readonly redis: Redis;
  prefix(): string;
  open(prefix: string, options?: Partial<RedisTransportOptions>): Transport;
} {
  const filePrefix = `rb-test:${process.pid}:${Math.random().toString(36).slice(2, 8)}:${label}`;
  const redis = newClient({ url: REDIS_URL }, flavour) as Redis;
  const opened: Transport[] = [];
  let tests = 0;
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((transport) => transport.close({ timeoutMs: 1_000 })));
  });
  afterAll(async () => {
    await unlinkUnder(redis, filePrefix);
    await redis.quit();
  });
  return {
    redis,
    prefix: () => `${filePrefix}:${++tests}`,
    open(prefix, options = {}) {
      const transport = redisTransport({ ...FAST, ...options, redis, prefix });
      opened.push(transport);
      return transport;
    },
  };
}

/** Removes every key under `prefix` (SCAN + UNLINK), leaving the rest of the shared Redis alone. */
export async function unlinkUnder(redis: Redis | Cluster, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1_000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
}

/** Records deliveries (id, key, attempt) in arrival order. */
export class Received {
  readonly entries: Array<{ id: string; key: string | undefined; attempt: number }> = [];

  add(delivery: Delivery): void {
    this.entries.push({ id: delivery.message.id, key: delivery.message.key, attempt: delivery.attempt });
  }

  ids(): string[] {
    return this.entries.map((entry) => entry.id);
  }

  readonly acking = (delivery: Delivery): void | Promise<void> => {
    this.add(delivery);
    return delivery.ack();
  };
}

/** A message with a small JSON body. */
export function message(
  topic: string,
  id: string,
  key?: string,
): { id: string; topic: string; key?: string; body: unknown } {
  return { id, topic, ...(key === undefined ? {} : { key }), body: { id, n: id } };
}

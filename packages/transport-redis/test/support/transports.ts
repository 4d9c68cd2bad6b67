import type { Transport } from '@relaybus/core';
import { type RedisTransportOptions, redisTransport } from '@relaybus/transport-redis';
import type { Cluster, Redis } from 'ioredis';
import { afterEach } from 'vitest';
import { type ClientFlavour, type Connection, IOREDIS_5, newClient } from './client';

export { type Connection, closingClient, newClient } from './client';

/** Longest wait for a transport's `close({ timeoutMs: 2000 })` in cleanup before its client is dropped. */
const CLOSE_BOUND_MS = 8_000;

/** A transport with the client it owns. */
export interface OpenTransport {
  readonly transport: Transport;
  readonly redis: Redis | Cluster;
  /** Closes the transport (bounded), then disconnects its client. */
  close(): Promise<void>;
}

/** A key prefix unique to this test run, so tests sharing a server never see each other's keys. */
export function uniquePrefix(label: string): string {
  return `rb-test:${label}:${process.pid}:${Date.now().toString(36)}${Math.random().toString(36).slice(2, 7)}`;
}

/**
 * Opens redisTransport instances, each on its own client of `flavour` (as separate processes would have), and
 * closes all of them after each test.
 *
 * @example
 * ```ts
 * const open = useTransports(flavour);
 * it('...', async () => { const { transport } = open({ url }, prefix); });
 * ```
 */
export function useTransports(
  flavour: ClientFlavour = IOREDIS_5,
): (connection: Connection, prefix: string, options?: Partial<RedisTransportOptions>) => OpenTransport {
  const opened: OpenTransport[] = [];
  afterEach(async () => {
    const closing = opened.splice(0);
    await Promise.all(closing.map((entry) => entry.close()));
  });
  return (connection, prefix, options = {}) => {
    const redis = newClient(connection, flavour);
    const transport = redisTransport({ ...options, redis, prefix });
    const entry: OpenTransport = {
      transport,
      redis,
      async close() {
        // Bounded here too, so that a transport whose close hangs fails its own test, not every hook after it.
        let timer: ReturnType<typeof setTimeout> | undefined;
        const giveUp = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, CLOSE_BOUND_MS);
        });
        try {
          await Promise.race([transport.close({ timeoutMs: 2_000 }), giveUp]);
        } finally {
          clearTimeout(timer);
          redis.disconnect();
        }
      },
    };
    opened.push(entry);
    return entry;
  };
}

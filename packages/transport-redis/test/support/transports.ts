import type { Delivery, Transport, TransportMessage } from '@relaybus/core';
import { type RedisTransportOptions, redisTransport } from '@relaybus/transport-redis';
import type { Cluster, Redis } from 'ioredis';
import { afterEach } from 'vitest';
import { type ClientFlavour, type Connection, IOREDIS_5, newClient } from './client';

export { type Connection, newClient } from './client';

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

/**
 * The transport, with `close()` also disconnecting the client it was given, for code that only knows the
 * `Transport` contract (the conformance suite closes what its factory made, nothing else).
 */
export function closingClient(transport: Transport, redis: Redis | Cluster): Transport {
  return {
    name: transport.name,
    capabilities: transport.capabilities,
    deadLetters: transport.deadLetters,
    publish: (batch) => transport.publish(batch),
    subscribe: (options, handler) => transport.subscribe(options, handler),
    declareGroup: (declaration) => transport.declareGroup(declaration),
    async close(options) {
      try {
        await transport.close(options);
      } finally {
        redis.disconnect();
      }
    },
  };
}

/** One delivery as a {@link DeliveryLog} saw it. */
export interface LoggedDelivery {
  readonly id: string;
  readonly key: string | undefined;
  readonly attempt: number;
  readonly at: number;
}

/** Records what a handler received: every delivery in order, and how often each id came. */
export class DeliveryLog {
  readonly deliveries: LoggedDelivery[] = [];
  readonly #counts = new Map<string, number>();

  record(delivery: Delivery): void {
    const { id, key } = delivery.message;
    this.deliveries.push({ id, key, attempt: delivery.attempt, at: Date.now() });
    this.#counts.set(id, (this.#counts.get(id) ?? 0) + 1);
  }

  /** A handler that records and acks. */
  readonly acking = async (delivery: Delivery): Promise<void> => {
    this.record(delivery);
    await delivery.ack();
  };

  has(id: string): boolean {
    return this.#counts.has(id);
  }

  /** Distinct ids received. */
  get distinct(): number {
    return this.#counts.size;
  }

  /** Deliveries beyond the first of each id. */
  get duplicates(): number {
    return this.deliveries.length - this.#counts.size;
  }

  /** Ids of `expected` not received yet. */
  missing(expected: Iterable<string>): string[] {
    return [...expected].filter((id) => !this.#counts.has(id));
  }
}

/** `count` messages on `topic` with ids `<label>-<n>` and a small JSON body. */
export function messages(
  topic: string,
  label: string,
  count: number,
  extra: (index: number) => Partial<TransportMessage> = () => ({}),
): TransportMessage[] {
  return Array.from({ length: count }, (_, index) => ({
    id: `${label}-${index}`,
    topic,
    body: { id: `${label}-${index}`, type: topic, data: { n: index } },
    ...extra(index),
  }));
}

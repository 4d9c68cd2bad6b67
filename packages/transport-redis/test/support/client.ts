import type { Transport } from '@relaybus/core';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { Cluster as Cluster60, Redis as Redis60 } from 'ioredis-6-0';
import { Cluster as Cluster6, Redis as Redis6 } from 'ioredis6';

/** A node address, as ioredis `Cluster` takes it. */
export interface ClusterNode {
  readonly host: string;
  readonly port: number;
}

/** Where a test's clients connect: a standalone URL or a cluster's nodes. */
export type Connection = { readonly url: string } | { readonly cluster: ReadonlyArray<ClusterNode> };

/** An ioredis major with the reply options a test runs it with. JSON-safe, so a child process can be told. */
export interface ClientFlavour {
  /** Shown in test names. */
  readonly name: string;
  readonly major: 5 | 6;
  /** The exact release, when not the newest of its major. */
  readonly release?: '6.0.0';
  /** Extra client options (ioredis 6 only). */
  readonly options: { readonly protocol?: 2 | 3; readonly replyMapping?: 'legacy' | 'resp3' };
}

/** ioredis 5: RESP2. */
export const IOREDIS_5: ClientFlavour = { name: 'ioredis 5', major: 5, options: {} };
/** ioredis 6 as `new Redis()` makes it: RESP3 with `replyMapping: 'legacy'`. */
export const IOREDIS_6: ClientFlavour = { name: 'ioredis 6', major: 6, options: {} };
/** ioredis 6 speaking RESP2. */
export const IOREDIS_6_PROTOCOL_2: ClientFlavour = {
  name: 'ioredis 6, protocol 2',
  major: 6,
  options: { protocol: 2 },
};
/** ioredis 6 with RESP3 maps as plain objects. */
export const IOREDIS_6_RESP3_REPLIES: ClientFlavour = {
  name: "ioredis 6, replyMapping 'resp3'",
  major: 6,
  options: { replyMapping: 'resp3' },
};

/**
 * ioredis 6.0.0, the lowest release the peer range allows: with RESP3 and `replyMapping: 'legacy'` it flattens
 * XREADGROUP's map into one `[stream, entries, stream, entries]` list (6.1 nests it again).
 */
export const IOREDIS_6_0: ClientFlavour = { name: 'ioredis 6.0.0', major: 6, release: '6.0.0', options: {} };

/**
 * A new client of `flavour` for `connection`. Connection errors are expected in tests that stop servers, and
 * ioredis prints every error it cannot hand to a listener, so this one listens (the transport reports what
 * matters). Typed as ioredis 5, the version the sources compile against; ioredis 6 clients have the same surface
 * (its option types, stricter under `exactOptionalPropertyTypes`, are bypassed the same way).
 */
export function newClient(
  connection: Connection,
  flavour: ClientFlavour = IOREDIS_5,
  options: Readonly<Record<string, unknown>> = {},
): Redis | Cluster {
  // ioredis 5's options type does not know ioredis 6's `protocol` and `replyMapping`.
  const merged = { ...flavour.options, ...options } as RedisOptions;
  const [RedisClass, ClusterClass] = classesOf(flavour);
  let client: Redis | Cluster;
  if ('url' in connection) {
    client = new RedisClass(connection.url, merged);
  } else {
    const nodes = connection.cluster.map((node) => ({ host: node.host, port: node.port }));
    client = new ClusterClass(nodes, { redisOptions: merged });
  }
  client.on('error', () => {});
  return client;
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

function classesOf(flavour: ClientFlavour): [typeof Redis, typeof Cluster] {
  if (flavour.major === 5) return [Redis, Cluster];
  if (flavour.release === '6.0.0') {
    return [Redis60 as unknown as typeof Redis, Cluster60 as unknown as typeof Cluster];
  }
  return [Redis6 as unknown as typeof Redis, Cluster6 as unknown as typeof Cluster];
}

/**
 * Every reply shape a supported client produces: RESP2 (ioredis 5, and 6 with protocol 2), and RESP3 as ioredis 6.1,
 * 6.0 and `replyMapping: 'resp3'` map it.
 */
export const EVERY_REPLY_SHAPE: ReadonlyArray<ClientFlavour> = [
  IOREDIS_5,
  IOREDIS_6,
  IOREDIS_6_PROTOCOL_2,
  IOREDIS_6_RESP3_REPLIES,
  IOREDIS_6_0,
];

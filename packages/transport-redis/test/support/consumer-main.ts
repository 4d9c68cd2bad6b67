// Runs in its own process (see startConsumerProcess in @relaybus/test-support): one redisTransport consumer on a
// client of its own, which its close() disconnects.

import { serveConsumer } from '@relaybus/test-support/child';
import { type RedisTransportOptions, redisTransport } from '@relaybus/transport-redis';
import { type ClientFlavour, type Connection, closingClient, newClient } from './client';

/** What the consumer process makes its transport from. */
export interface RedisConsumer {
  /** A standalone server URL, or the nodes of a cluster. */
  readonly connection: Connection;
  /** The ioredis major (and reply options) to connect with; ioredis 5 when absent. */
  readonly flavour?: ClientFlavour;
  /** The transport's key prefix. */
  readonly prefix: string;
  /** Extra `redisTransport` options (JSON-safe), merged under `{ redis, prefix }`. */
  readonly options?: Partial<RedisTransportOptions>;
}

await serveConsumer<RedisConsumer>(({ connection, flavour, prefix, options }) => {
  const redis = newClient(connection, flavour);
  return closingClient(redisTransport({ ...options, redis, prefix }), redis);
});

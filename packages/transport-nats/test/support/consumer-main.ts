// Runs in its own process (see startConsumerProcess in @relaybus/test-support): one natsTransport consumer.
import { silentLogger } from '@relaybus/core';
import { serveConsumer } from '@relaybus/test-support/child';
import { type NatsTransportOptions, natsTransport } from '@relaybus/transport-nats';

/** What the consumer process makes its transport from. */
export interface NatsConsumer {
  /** NATS server URL. */
  readonly servers: string;
  /** The transport's prefix. */
  readonly prefix: string;
  /** Extra `natsTransport` options (JSON-safe), merged under `{ servers, prefix }`. */
  readonly options?: Partial<NatsTransportOptions>;
}

await serveConsumer<NatsConsumer>(({ servers, prefix, options }) =>
  natsTransport({ logger: silentLogger, ...options, servers, prefix }),
);

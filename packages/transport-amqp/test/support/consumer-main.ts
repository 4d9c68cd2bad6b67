// Runs in its own process (see startConsumerProcess in @relaybus/test-support): one amqpTransport consumer.
import { serveConsumer } from '@relaybus/test-support/child';
import { amqpTransport } from '@relaybus/transport-amqp';

/** What the consumer process makes its transport from. */
export interface AmqpConsumer {
  readonly url: string;
  readonly exchange: string;
  /** How long the group's queues outlive their last consumer, in milliseconds. */
  readonly groupExpiresMs: number;
}

await serveConsumer<AmqpConsumer>(({ url, exchange, groupExpiresMs }) =>
  amqpTransport({ url, exchange, groupExpiresMs }),
);

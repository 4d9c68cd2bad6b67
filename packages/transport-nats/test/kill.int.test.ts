import { silentLogger } from '@relaybus/core';
import { besideModule, expectKilledConsumerLosesNothing, startConsumerProcess } from '@relaybus/test-support';
import { natsTransport } from '@relaybus/transport-nats';
import { afterEach, describe, it } from 'vitest';
import type { NatsConsumer } from './support/consumer-main';
import { NATS_URL, uniquePrefix, useCleanup } from './support/nats';

const CONSUMER_MAIN = besideModule(import.meta.url, 'support/consumer-main.ts');
const TOPIC = 'job.created';
const GROUP = 'workers';
const ACK_WAIT_MS = 1_000;
/** Bound on redelivery after the kill: the ack wait plus generous room. */
const REDELIVERY_BOUND_MS = 15_000;

const cleanup = useCleanup();

describe('a consumer process killed with SIGKILL', () => {
  const transports: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    await Promise.all(transports.splice(0).map((transport) => transport.close()));
  });

  it('has the messages it held redelivered to the survivor after the ack wait, and none is lost', async () => {
    const prefix = cleanup(uniquePrefix('kill'));
    const options = { servers: NATS_URL, prefix, ackWaitMs: ACK_WAIT_MS, logger: silentLogger };
    // The group exists before either consumer starts, so both share it from the first message.
    const publisher = natsTransport(options);
    const survivor = natsTransport(options);
    transports.push(publisher, survivor);
    await publisher.declareGroup({ group: GROUP, topics: [TOPIC] });
    await expectKilledConsumerLosesNothing({
      topic: TOPIC,
      group: GROUP,
      concurrency: 8,
      // Redelivery comes from the ack wait, not from the visibility timeout.
      visibilityTimeoutMs: 30_000,
      redeliveryBoundMs: REDELIVERY_BOUND_MS,
      startVictim: (subscription) =>
        startConsumerProcess<NatsConsumer>(CONSUMER_MAIN, {
          transport: { servers: NATS_URL, prefix, options: { ackWaitMs: ACK_WAIT_MS } },
          ...subscription,
        }),
      survivor,
      publisher,
    });
  }, 60_000);
});

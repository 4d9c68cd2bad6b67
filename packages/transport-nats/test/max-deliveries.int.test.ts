import { type Delivery, silentLogger, type Transport } from '@relaybus/core';
import { waitFor } from '@relaybus/core/testing';
import { natsTransport } from '@relaybus/transport-nats';
import { afterEach, expect, it } from 'vitest';
import { NATS_URL, uniquePrefix, useCleanup } from './support/nats';

const cleanup = useCleanup();
const opened: Transport[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((transport) => transport.close({ timeoutMs: 0 })));
});

const TOPIC = 'invoice.sent';
const GROUP = 'mailer';

it('a message whose last allowed delivery was never settled (its process stopped) is dead-lettered, not lost', async () => {
  const prefix = cleanup(uniquePrefix('maxdeliver'));
  const open = (): Transport => {
    const transport = natsTransport({
      servers: NATS_URL,
      prefix,
      maxDeliver: 2,
      ackWaitMs: 300,
      logger: silentLogger,
    });
    opened.push(transport);
    return transport;
  };
  const publisher = open();
  await publisher.declareGroup({ group: GROUP, topics: [TOPIC] });
  await publisher.publish([{ id: 'invoice-1', topic: TOPIC, body: { n: 1 } }]);

  // Two members in turn take the message and stop without settling it: a crash, as far as JetStream can tell.
  const attempts: number[] = [];
  for (let member = 0; member < 2; member++) {
    const transport = open();
    let held: Delivery | undefined;
    await transport.subscribe({ topics: [TOPIC], group: GROUP, visibilityTimeoutMs: 60_000 }, (delivery) => {
      held = delivery;
      attempts.push(delivery.attempt);
      return new Promise(() => {});
    });
    await waitFor(() => held !== undefined, {
      timeoutMs: 10_000,
      message: `member ${member + 1} to get the message`,
    });
    await transport.close({ timeoutMs: 0 });
  }
  expect(attempts).toEqual([1, 2]);

  // A live member: JetStream will not deliver the message a third time; it reports it, and the member records it.
  const survivor = open();
  const late: string[] = [];
  await survivor.subscribe({ topics: [TOPIC], group: GROUP }, (delivery) => {
    late.push(delivery.message.id);
    return delivery.ack();
  });
  let letters = await survivor.deadLetters.list();
  await waitFor(
    async () => {
      letters = await survivor.deadLetters.list();
      return letters.length > 0;
    },
    { timeoutMs: 10_000, message: 'the dead letter of invoice-1' },
  );
  expect(
    letters.map(({ message, group, reason, attempts: count }) => ({ id: message.id, group, reason, count })),
  ).toEqual([{ id: 'invoice-1', group: GROUP, reason: 'MAX_ATTEMPTS', count: 2 }]);
  expect(late).toEqual([]);
}, 40_000);

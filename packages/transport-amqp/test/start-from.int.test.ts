// The conformance suite's 'start-from' scenario is skipped as a whole (its first test needs a replay RabbitMQ cannot
// do); these are its other two tests, and what a new group does on RabbitMQ instead.
import type { Transport, TransportMessage } from '@relaybus/core';
import { collect } from '@relaybus/core/testing';
import { amqpTransport } from '@relaybus/transport-amqp';
import { afterEach, expect, it } from 'vitest';
import { AMQP_URL, TEST_GROUP_EXPIRES_MS, uniqueExchange, useCleanup } from './support/broker';

const TOPIC = 'conformance.start';
const { track } = useCleanup();
const opened: Transport[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((transport) => transport.close({ timeoutMs: 1_000 })));
});

function deployment(): () => Transport {
  const exchange = track(uniqueExchange('start'));
  return () => {
    const transport = amqpTransport({ url: AMQP_URL, exchange, groupExpiresMs: TEST_GROUP_EXPIRES_MS });
    opened.push(transport);
    return transport;
  };
}

function messages(label: string, count: number): TransportMessage[] {
  return Array.from({ length: count }, (_, index) => ({
    id: `${label}-${index}`,
    topic: TOPIC,
    body: { index },
  }));
}

const ids = (list: TransportMessage[]): string[] => list.map((message) => message.id);

it("a group created with startFrom 'latest' receives only what is published after it subscribed", async () => {
  const open = deployment();
  const publisher = open();
  await publisher.publish(messages('older', 10));
  const latest = await collect(open(), { topics: [TOPIC], group: 'fresh', startFrom: 'latest' });
  const newer = messages('newer', 10);
  await publisher.publish(newer);
  await latest.waitForCount(10);
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(latest.ids().sort()).toEqual(ids(newer).sort());
});

it('an existing group keeps its position whatever startFrom a later member asks for', async () => {
  const open = deployment();
  const publisher = open();
  const first = await collect(open(), { topics: [TOPIC], group: 'kept', startFrom: 'latest' });
  await publisher.publish(messages('handled', 5));
  await first.waitForCount(5);
  await first.close();
  const missed = messages('while-closed', 5);
  await publisher.publish(missed);
  const again = await collect(open(), { topics: [TOPIC], group: 'kept', startFrom: 'latest' });
  await again.waitForCount(5);
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(again.ids().sort()).toEqual(ids(missed).sort());
});

it("a new group starts at the latest message even with startFrom 'earliest' (RabbitMQ cannot replay)", async () => {
  const open = deployment();
  const publisher = open();
  await publisher.publish(messages('before', 5));
  const earliest = await collect(open(), { topics: [TOPIC], group: 'late', startFrom: 'earliest' });
  const after = messages('after', 5);
  await publisher.publish(after);
  await earliest.waitForCount(5);
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(earliest.ids().sort()).toEqual(ids(after).sort());
});

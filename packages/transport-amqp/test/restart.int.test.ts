import type { Transport, TransportMessage } from '@relaybus/core';
import { waitFor } from '@relaybus/core/testing';
import { amqpTransport } from '@relaybus/transport-amqp';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type OwnBroker, startOwnBroker } from './support/own-broker';

let broker: OwnBroker;
const transports: Transport[] = [];

beforeAll(async () => {
  broker = await startOwnBroker();
}, 120_000);

afterAll(async () => {
  await Promise.allSettled(transports.map((transport) => transport.close({ timeoutMs: 1_000 })));
  await broker?.stop();
}, 60_000);

function open(): Transport {
  const transport = amqpTransport({ url: broker.url, exchange: 'restart', connectTimeoutMs: 20_000 });
  transports.push(transport);
  return transport;
}

function batch(topic: string, label: string, count: number, keyed = false): TransportMessage[] {
  return Array.from({ length: count }, (_, index) => ({
    id: `${label}-${index}`,
    topic,
    ...(keyed ? { key: `k${index % 7}` } : {}),
    body: { id: `${label}-${index}`, n: index },
  }));
}

/** Publishes until the broker confirms: while it restarts, publish() rejects with TransportUnavailableError. */
async function publishConfirmed(transport: Transport, messages: TransportMessage[]): Promise<void> {
  for (let tries = 0; ; tries++) {
    try {
      return await transport.publish(messages);
    } catch (error) {
      if (tries > 40) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

it('loses nothing it confirmed across a broker restart, and consumers resume by themselves', async () => {
  const publisher = open();
  // A group declared ahead of its worker keeps a backlog that must survive the restart.
  await publisher.declareGroup({ group: 'backlog', topics: ['order.placed'] });
  const backlog = [...batch('order.placed', 'backlog', 100), ...batch('order.placed', 'keyed', 50, true)];
  await publishConfirmed(publisher, backlog);

  // A live member, subscribed before the restart, must consume again after it without being told.
  const live = new Set<string>();
  const consumer = open();
  await consumer.subscribe({ topics: ['order.shipped'], group: 'live', concurrency: 4 }, async (delivery) => {
    live.add(delivery.message.id);
    await delivery.ack();
  });
  const before = batch('order.shipped', 'before', 20);
  await publishConfirmed(publisher, before);
  await waitFor(() => before.every((message) => live.has(message.id)), {
    timeoutMs: 10_000,
    message: 'before',
  });

  await broker.restart();

  const after = batch('order.shipped', 'after', 20, true);
  await publishConfirmed(publisher, after);
  await waitFor(() => after.every((message) => live.has(message.id)), {
    timeoutMs: 30_000,
    message: () => `the live member to resume (${after.filter((message) => live.has(message.id)).length}/20)`,
  });

  const drained = new Set<string>();
  await open().subscribe({ topics: ['order.placed'], group: 'backlog', concurrency: 8 }, async (delivery) => {
    drained.add(delivery.message.id);
    await delivery.ack();
  });
  await waitFor(() => backlog.every((message) => drained.has(message.id)), {
    timeoutMs: 15_000,
    message: () => `the confirmed backlog after the restart (${drained.size}/${backlog.length})`,
  });
  expect(drained.size).toBe(backlog.length);
}, 180_000);

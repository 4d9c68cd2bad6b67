import type { TransportMessage } from '@relaybus/core';
import { waitFor } from '@relaybus/core/testing';
import { besideModule, type ConsumerProcess, startConsumerProcess } from '@relaybus/test-support';
import { amqpTransport } from '@relaybus/transport-amqp';
import { afterAll, expect, it } from 'vitest';
import { AMQP_URL, TEST_GROUP_EXPIRES_MS, uniqueExchange, useCleanup } from './support/broker';
import type { AmqpConsumer } from './support/consumer-main';

const CONSUMER_MAIN = besideModule(import.meta.url, 'support/consumer-main.ts');
const TOPIC = 'job.created';
const GROUP = 'workers';
const CONCURRENCY = 8;
const { track } = useCleanup();
const children: ConsumerProcess[] = [];
afterAll(async () => {
  await Promise.all(children.map((child) => child.kill('SIGKILL')));
});

function batch(label: string, count: number): TransportMessage[] {
  // Half keyed (the ordered queue, where the victim is the single active consumer), half not (shared).
  return Array.from({ length: count }, (_, index) => ({
    id: `${label}-${index}`,
    topic: TOPIC,
    ...(index % 2 === 0 ? { key: `key-${index % 10}` } : {}),
    body: { n: index },
  }));
}

it('a consumer process SIGKILLed while holding messages loses none: the survivor handles every one', async () => {
  const exchange = track(uniqueExchange('kill'));
  const options = { url: AMQP_URL, exchange, groupExpiresMs: TEST_GROUP_EXPIRES_MS };
  // A group member that holds, never settling, every message it gets.
  const victim = await startConsumerProcess<AmqpConsumer>(CONSUMER_MAIN, {
    transport: options,
    topics: [TOPIC],
    group: GROUP,
    concurrency: CONCURRENCY,
    visibilityTimeoutMs: 600_000,
  });
  children.push(victim);
  await victim.hold();
  // The victim subscribed first: it is the active consumer of the group's ordered queue.
  const survivor = amqpTransport(options);
  const handled = new Map<string, number>();
  await survivor.subscribe({ topics: [TOPIC], group: GROUP, concurrency: CONCURRENCY }, async (delivery) => {
    handled.set(delivery.message.id, Math.max(delivery.attempt, handled.get(delivery.message.id) ?? 0));
    await delivery.ack();
  });
  const publisher = amqpTransport(options);
  const sent = batch('job', 200);
  await publisher.publish(sent);

  await victim.waitForHeld(CONCURRENCY, 10_000);
  // The victim also has keyed messages waiting in its prefetch buffer, behind its busy handlers: those come back too.
  await waitFor(() => handled.size >= 50, { timeoutMs: 10_000, message: 'the survivor to share the work' });
  const heldBeforeDeath = victim.held();
  expect((await victim.kill('SIGKILL')).signal).toBe('SIGKILL');

  await waitFor(() => sent.every((message) => handled.has(message.id)), {
    timeoutMs: 20_000,
    message: () =>
      `the survivor to handle everything (missing ${sent.filter((m) => !handled.has(m.id)).length})`,
  });
  for (const id of heldBeforeDeath) {
    expect(handled.get(id), `attempt of ${id}, held by the killed consumer`).toBeGreaterThanOrEqual(2);
  }
  await Promise.all([survivor.close(), publisher.close()]);
}, 60_000);

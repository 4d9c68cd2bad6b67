import type { TransportSubscribeOptions } from '../../../transport/transport';
import { expect } from '../../expect';
import { CLOCK_SLACK_MS, expectSameMessage } from '../assertions';
import type { Harness } from '../harness';
import type { Scenario } from '../scenario';

const TOPIC = 'conformance.retried';
const NACK_DELAY_MS = 200;

async function nackRedelivers(h: Harness, grouping: Pick<TransportSubscribeOptions, 'group'>): Promise<void> {
  const publisher = await h.transport();
  const collector = await h.collect(
    await h.peer(),
    { topics: [TOPIC], ...grouping },
    { handle: (delivery) => (delivery.attempt < 3 ? delivery.nack() : delivery.ack()) },
  );
  const message = h.message(TOPIC, { key: 'task-1' });
  await publisher.publish([message]);

  await collector.waitForCount(3, { message: 'the first delivery and two redeliveries after nack' });
  await h.quiet();
  const deliveries = collector.received.map((entry) => entry.delivery);
  expect(
    deliveries.map((delivery) => ({ id: delivery.message.id, attempt: delivery.attempt })),
    'deliveries until the ack: attempt counts 1, 2, 3, then nothing more',
  ).toEqual([1, 2, 3].map((attempt) => ({ id: message.id, attempt })));
  const first = deliveries[0]?.firstAttemptAt;
  for (const delivery of deliveries) {
    expectSameMessage(delivery.message, message, `attempt ${delivery.attempt}`);
    expect(
      delivery.firstAttemptAt,
      `firstAttemptAt of attempt ${delivery.attempt} is the first delivery's`,
    ).toBe(first);
  }
}

async function nackWithDelay(h: Harness): Promise<void> {
  const publisher = await h.transport();
  let nackedAt = Number.NaN;
  const collector = await h.collect(
    await h.peer(),
    { topics: [TOPIC], group: 'retry' },
    {
      handle: (delivery) => {
        if (delivery.attempt > 1) return delivery.ack();
        nackedAt = Date.now();
        return delivery.nack({ delayMs: NACK_DELAY_MS });
      },
    },
  );
  const message = h.message(TOPIC);
  await publisher.publish([message]);

  await collector.waitForCount(2, {
    message: `the redelivery ${NACK_DELAY_MS} ms after nack`,
    timeoutMs: NACK_DELAY_MS + h.timeoutMs,
  });
  await h.quiet();
  const [, second] = collector.received;
  expect(
    collector.received.map((entry) => entry.delivery.attempt),
    'attempts',
  ).toEqual([1, 2]);
  const waitedMs = (second?.receivedAt ?? Number.NaN) - nackedAt;
  expect(
    waitedMs,
    `redelivery after nack({ delayMs: ${NACK_DELAY_MS} }) came ${waitedMs} ms after the nack; it must not come earlier`,
  ).toBeGreaterThanOrEqual(NACK_DELAY_MS - CLOCK_SLACK_MS);
}

/** Scenario 4: nack hands the message back with the attempt count incremented, after the delay when given. */
export const nackRedeliveryScenario: Scenario = {
  name: 'nack-redelivery',
  tests: [
    {
      title: 'a nacked message is redelivered to its group with attempt incremented until it is acked',
      requires: ['groups'],
      run: (h) => nackRedelivers(h, { group: 'retry' }),
    },
    {
      title: 'a message nacked by a subscriber without a group is redelivered to it with attempt incremented',
      run: (h) => nackRedelivers(h, {}),
    },
    {
      title: `nack({ delayMs: ${NACK_DELAY_MS} }) redelivers no earlier than the delay`,
      requires: ['groups', 'delay'],
      run: nackWithDelay,
    },
  ],
};

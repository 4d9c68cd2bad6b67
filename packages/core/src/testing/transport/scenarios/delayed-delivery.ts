import type { TransportSubscribeOptions } from '../../../transport/transport';
import { expect } from '../../expect';
import { CLOCK_SLACK_MS, expectSameMessage } from '../assertions';
import type { Harness } from '../harness';
import type { Scenario } from '../scenario';

const TOPIC = 'conformance.scheduled';
const DELAY_MS = 200;

async function delayed(h: Harness, grouping: Pick<TransportSubscribeOptions, 'group'>): Promise<void> {
  const publisher = await h.transport();
  const collector = await h.collect(await h.peer(), { topics: [TOPIC], ...grouping });
  const later = h.message(TOPIC, { delayMs: DELAY_MS, label: 'delayed' });
  const now = h.message(TOPIC, { label: 'immediate' });
  const publishedAt = Date.now();
  await publisher.publish([later]);
  await publisher.publish([now]);

  await collector.waitForCount(2, {
    message: 'the immediate and the delayed message',
    timeoutMs: DELAY_MS + h.timeoutMs,
  });
  await h.quiet();
  expect(collector.ids(), 'the message published later without a delay arrives first').toEqual([
    now.id,
    later.id,
  ]);
  const [, delivered] = collector.received;
  expectSameMessage(delivered?.delivery.message ?? later, later, 'delayed delivery');
  expect(delivered?.delivery.attempt, 'a delayed message arrives as attempt 1').toBe(1);
  const waitedMs = (delivered?.receivedAt ?? Number.NaN) - publishedAt;
  expect(
    waitedMs,
    `a message published with delayMs ${DELAY_MS} arrived ${waitedMs} ms after publish(); it must not come earlier`,
  ).toBeGreaterThanOrEqual(DELAY_MS - CLOCK_SLACK_MS);
}

/** Scenario 11: `delayMs` on publish. */
export const delayedDeliveryScenario: Scenario = {
  name: 'delayed-delivery',
  tests: [
    {
      title: `a message with delayMs ${DELAY_MS} arrives no earlier, after a later one without delay`,
      requires: ['delay'],
      run: (h) => delayed(h, {}),
    },
    {
      title: `a delayed message reaches a group once, no earlier than its delay`,
      requires: ['delay', 'groups'],
      run: (h) => delayed(h, { group: 'scheduler' }),
    },
  ],
};

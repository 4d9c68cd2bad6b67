import type { Delivery } from '../../../transport/transport';
import type { CollectedDelivery } from '../../collect';
import { expect } from '../../expect';
import { aborted, CLOCK_SLACK_MS, expectExactlyOnce, expectSameMessage } from '../assertions';
import type { Harness } from '../harness';
import type { Scenario } from '../scenario';

const TOPIC = 'conformance.leased';

async function unsettledBlocksNothing(h: Harness): Promise<void> {
  const publisher = await h.transport();
  const visibilityTimeoutMs = h.visibilityTimeoutMs;
  const stuck = h.message(TOPIC, { key: 'key-a', label: 'stuck' });
  const others = [h.message(TOPIC, { key: 'key-b' }), h.message(TOPIC)];
  let stuckFirst: Delivery | undefined;
  const leaseAliveWhenHandled = new Map<string, boolean>();

  const collector = await h.collect(
    await h.peer(),
    { topics: [TOPIC], group: 'leases', concurrency: 4, visibilityTimeoutMs },
    {
      handle: async (delivery) => {
        if (delivery.message.id === stuck.id && delivery.attempt === 1) {
          // A consumer that never settles but honours its signal, like a handler stuck on a slow call.
          stuckFirst = delivery;
          await aborted(delivery.signal);
          return;
        }
        if (delivery.message.id !== stuck.id) {
          leaseAliveWhenHandled.set(delivery.message.id, stuckFirst?.signal.aborted === false);
        }
        await delivery.ack();
      },
    },
  );
  // The lease starts after publishing, so this is a safe lower bound for when the redelivery may come.
  const publishedAt = Date.now();
  await publisher.publish([stuck]);
  await h.waitFor(() => stuckFirst !== undefined, `the first delivery of ${stuck.id}`);
  await publisher.publish(others);

  const otherIds = others.map((message) => message.id);
  await h.waitForIds(
    () => leaseAliveWhenHandled.keys(),
    otherIds,
    `the group while ${stuck.id} is unsettled`,
  );
  expect(
    Object.fromEntries(leaseAliveWhenHandled),
    `messages of other keys are handled while ${stuck.id} is still leased, not after its visibility timeout`,
  ).toEqual(Object.fromEntries(otherIds.map((id) => [id, true])));

  const stuckDeliveries = (): CollectedDelivery[] =>
    collector.received.filter((entry) => entry.delivery.message.id === stuck.id);
  await h.waitFor(
    () => stuckDeliveries().length >= 2,
    `${stuck.id} to come back after its visibility timeout of ${visibilityTimeoutMs} ms`,
    visibilityTimeoutMs + h.timeoutMs,
  );
  await h.quiet();
  const [first, second, ...more] = stuckDeliveries();
  expect(more.length, `${stuck.id} is not delivered again once acked`).toBe(0);
  expect(second?.delivery.attempt, 'attempt of the redelivery after the visibility timeout').toBe(2);
  expectSameMessage(second?.delivery.message ?? stuck, stuck, 'redelivery after the visibility timeout');
  expect(first?.delivery.signal.aborted, "the expired delivery's signal is aborted").toBe(true);
  const leaseMs = (second?.receivedAt ?? Number.NaN) - publishedAt;
  expect(
    leaseMs,
    `redelivered ${leaseMs} ms after publish(); never before the visibility timeout`,
  ).toBeGreaterThanOrEqual(visibilityTimeoutMs - CLOCK_SLACK_MS);
  expectExactlyOnce(
    collector.ids().filter((id) => id !== stuck.id),
    otherIds,
    'messages published after the stuck one',
  );
}

/** Scenario 5: an unsettled message holds up nothing else and comes back after its visibility timeout. */
export const visibilityTimeoutScenario: Scenario = {
  name: 'visibility-timeout',
  tests: [
    {
      title:
        'an unsettled message blocks no other key and is redelivered with attempt 2 after the visibility timeout',
      requires: ['groups'],
      run: unsettledBlocksNothing,
    },
  ],
};

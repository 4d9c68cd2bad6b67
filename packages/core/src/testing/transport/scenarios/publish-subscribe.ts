import type { TransportSubscribeOptions } from '../../../transport/transport';
import { expect } from '../../expect';
import { expectExactlyOnce, expectSameMessage, idsOf } from '../assertions';
import type { Harness } from '../harness';
import type { Scenario } from '../scenario';

const TOPIC = 'conformance.created';

async function deliversIntact(
  h: Harness,
  subscription: Pick<TransportSubscribeOptions, 'group'>,
): Promise<void> {
  const publisher = await h.transport();
  const collector = await h.collect(await h.peer(), { topics: [TOPIC], ...subscription });
  const first = h.message(TOPIC, { key: 'task-1' });
  const second = h.message(TOPIC);
  const third = h.message(TOPIC, { key: 'task-2', data: { empty: {}, zero: 0, blank: '' } });
  const sent = [first, second, third];
  await publisher.publish([first, h.message('conformance.other'), second]);
  await publisher.publish([third]);

  await collector.waitForCount(sent.length);
  await h.quiet();
  expectExactlyOnce(collector.ids(), idsOf(sent), `subscriber of ${TOPIC}`);
  for (const { delivery } of collector.received) {
    const original = sent.find((message) => message.id === delivery.message.id);
    if (original === undefined) throw new Error(`unexpected message ${delivery.message.id}`);
    expectSameMessage(delivery.message, original, 'first delivery');
    expect(delivery.attempt, `attempt of ${original.id}`).toBe(1);
    expect(Number.isFinite(delivery.firstAttemptAt), 'firstAttemptAt is epoch milliseconds').toBe(true);
    expect(delivery.signal, 'delivery.signal').toBeInstanceOf(AbortSignal);
    expect(delivery.signal.aborted, 'signal of a settled delivery on an open subscription').toBe(false);
  }
}

/** Scenario 1: what is published arrives, once, with every field intact. */
export const publishSubscribeScenario: Scenario = {
  name: 'publish-subscribe',
  tests: [
    {
      title: 'a subscriber without a group receives exactly the published messages, fields intact',
      run: (h) => deliversIntact(h, {}),
    },
    {
      title: 'a group member receives exactly the published messages, fields intact',
      requires: ['groups'],
      run: (h) => deliversIntact(h, { group: 'workers' }),
    },
  ],
};

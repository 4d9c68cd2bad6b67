import type { TransportMessage } from '../../../transport/transport';
import { expect } from '../../expect';
import { sleep } from '../../wait-for';
import { expectExactlyOnce, idsOf } from '../assertions';
import type { Harness } from '../harness';
import type { Scenario } from '../scenario';

const TOPIC = 'conformance.work';
const PUBLISHERS = 10;
const PER_PUBLISHER = 200;
const BATCH = 20;
const CONSUMERS = 4;
const CONCURRENCY = 4;

async function competingConsumers(h: Harness): Promise<void> {
  const publisher = await h.transport();
  const handled: string[] = [];
  const perConsumer = Array.from({ length: CONSUMERS }, () => 0);
  const inFlight = Array.from({ length: CONSUMERS }, () => 0);
  const overLimit: string[] = [];
  for (let consumer = 0; consumer < CONSUMERS; consumer++) {
    const transport = await h.peer();
    await transport.subscribe(
      { topics: [TOPIC], group: 'workers', concurrency: CONCURRENCY },
      async (delivery) => {
        inFlight[consumer] = (inFlight[consumer] ?? 0) + 1;
        if ((inFlight[consumer] ?? 0) > CONCURRENCY) {
          overLimit.push(`consumer ${consumer} had ${inFlight[consumer]} deliveries at once`);
        }
        // Yield to the event loop so deliveries overlap and the concurrency limit is actually exercised.
        await sleep(0);
        handled.push(delivery.message.id);
        perConsumer[consumer] = (perConsumer[consumer] ?? 0) + 1;
        inFlight[consumer] = (inFlight[consumer] ?? 0) - 1;
        await delivery.ack();
      },
    );
  }

  const sent: TransportMessage[] = [];
  await Promise.all(
    Array.from({ length: PUBLISHERS }, async (_, index) => {
      for (let published = 0; published < PER_PUBLISHER; published += BATCH) {
        const batch = h.messages(TOPIC, BATCH, { label: `p${index}` });
        sent.push(...batch);
        await publisher.publish(batch);
      }
    }),
  );

  const expected = idsOf(sent);
  await h.waitForIds(() => handled, expected, 'group "workers"', h.ms(15_000));
  await h.quiet();
  expectExactlyOnce(handled, expected, `group "workers" of ${CONSUMERS} competing consumers`);
  expect(overLimit, `no consumer gets more than concurrency ${CONCURRENCY} deliveries at once`).toEqual([]);
  expect(
    perConsumer.filter((count) => count === 0).length,
    `every member of the group shares the work (handled per consumer: ${perConsumer.join(', ')})`,
  ).toBe(0);
}

/** Scenario 2: many concurrent publishers, competing consumers in one group: nothing lost, nothing doubled. */
export const competingConsumersScenario: Scenario = {
  name: 'competing-consumers',
  tests: [
    {
      title: `${PUBLISHERS} publishers x ${PER_PUBLISHER} messages to ${CONSUMERS} consumers in one group: each handled exactly once`,
      requires: ['groups'],
      run: competingConsumers,
    },
  ],
};

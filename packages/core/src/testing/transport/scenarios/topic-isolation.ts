import type { TransportMessage } from '../../../transport/transport';
import type { Collector } from '../../collect';
import { expectExactlyOnce, idsOf } from '../assertions';
import type { Harness } from '../harness';
import type { Scenario } from '../scenario';

const TOPICS = 20;
const PER_TOPIC = 5;

async function isolated(h: Harness, group: string | undefined): Promise<void> {
  const publisher = await h.transport();
  const consumer = await h.peer();
  const topics = Array.from({ length: TOPICS }, (_, index) => `conformance.topic-${index}`);
  const collectors: Collector[] = [];
  for (const topic of topics) {
    collectors.push(
      await h.collect(consumer, { topics: [topic], ...(group === undefined ? {} : { group }) }),
    );
  }
  const sent = new Map<string, TransportMessage[]>(topics.map((topic) => [topic, []]));
  // Interleave topics inside each batch so a transport cannot get isolation right by accident of batching.
  for (let round = 0; round < PER_TOPIC; round++) {
    const batch = topics.map((topic) => h.message(topic, { label: topic.slice('conformance.'.length) }));
    for (const message of batch) sent.get(message.topic)?.push(message);
    await publisher.publish(batch);
  }

  for (const [index, topic] of topics.entries()) {
    await h.waitForIds(
      () => collectors[index]?.ids() ?? [],
      idsOf(sent.get(topic) ?? []),
      `subscriber of ${topic}`,
    );
  }
  await h.quiet();
  topics.forEach((topic, index) => {
    expectExactlyOnce(collectors[index]?.ids() ?? [], idsOf(sent.get(topic) ?? []), `subscriber of ${topic}`);
  });
}

/** Scenario 3: subscribers of 20 topics each see only their own topic. */
export const topicIsolationScenario: Scenario = {
  name: 'topic-isolation',
  tests: [
    {
      title: `${TOPICS} subscribers without a group each receive only their own topic`,
      run: (h) => isolated(h, undefined),
    },
    {
      title: `${TOPICS} subscribers sharing one group name on different topics each receive only their own topic`,
      requires: ['groups'],
      run: (h) => isolated(h, 'workers'),
    },
  ],
};

import type { Collector } from '../../collect';
import { expectExactlyOnce, idsOf } from '../assertions';
import type { Harness } from '../harness';
import type { Scenario } from '../scenario';

const TOPIC = 'conformance.broadcast';
const MESSAGES = 30;

async function fanOut(h: Harness, withGroup: boolean): Promise<void> {
  const publisher = await h.transport();
  const listeners: Collector[] = [];
  for (let index = 0; index < 3; index++)
    listeners.push(await h.collect(await h.peer(), { topics: [TOPIC] }));
  const members: Collector[] = [];
  if (withGroup) {
    for (let index = 0; index < 2; index++) {
      members.push(await h.collect(await h.peer(), { topics: [TOPIC], group: 'workers', concurrency: 2 }));
    }
  }
  const sent = h.messages(TOPIC, MESSAGES);
  await publisher.publish(sent.slice(0, MESSAGES / 2));
  await publisher.publish(sent.slice(MESSAGES / 2));

  const expected = idsOf(sent);
  const groupIds = (): string[] => members.flatMap((member) => member.ids());
  for (const [index, listener] of listeners.entries()) {
    await h.waitForIds(() => listener.ids(), expected, `subscriber ${index + 1} without a group`);
  }
  if (withGroup) await h.waitForIds(groupIds, expected, 'group "workers"');
  await h.quiet();
  listeners.forEach((listener, index) => {
    expectExactlyOnce(listener.ids(), expected, `subscriber ${index + 1} without a group`);
  });
  if (withGroup) expectExactlyOnce(groupIds(), expected, 'group "workers" (2 members)');
}

/** Scenario 9: subscribers without a group each see every message, alongside a group that shares them. */
export const fanOutScenario: Scenario = {
  name: 'fan-out',
  tests: [
    {
      title: 'three subscribers without a group each receive every message',
      run: (h) => fanOut(h, false),
    },
    {
      title: 'subscribers without a group each receive every message while a group handles each once',
      requires: ['groups'],
      run: (h) => fanOut(h, true),
    },
  ],
};

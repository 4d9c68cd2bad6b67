import { expect } from '../../expect';
import { expectExactlyOnce, idsOf } from '../assertions';
import type { Harness } from '../harness';
import type { Scenario } from '../scenario';

const TOPIC = 'conformance.start';

async function newGroupTakesRetained(h: Harness): Promise<void> {
  const publisher = await h.transport();
  const before = h.messages(TOPIC, 20, { label: 'before' });
  await publisher.publish(before);
  // A worker deployed after the publisher: its group does not exist yet.
  const byDefault = await h.collect(await h.peer(), { topics: [TOPIC], group: 'deployed-later' });
  const earliest = await h.collect(await h.peer(), {
    topics: [TOPIC],
    group: 'asked-earliest',
    startFrom: 'earliest',
  });
  const after = h.messages(TOPIC, 5, { label: 'after' });
  await publisher.publish(after);
  const expected = [...idsOf(before), ...idsOf(after)];
  await h.waitForIds(() => byDefault.ids(), expected, 'a new group with the default startFrom');
  await h.waitForIds(() => earliest.ids(), expected, "a new group with startFrom 'earliest'");
  await h.quiet();
  expectExactlyOnce(byDefault.ids(), expected, 'new group, default startFrom');
  expectExactlyOnce(earliest.ids(), expected, "new group, startFrom 'earliest'");
}

async function latestSkipsOlder(h: Harness): Promise<void> {
  const publisher = await h.transport();
  await publisher.publish(h.messages(TOPIC, 10, { label: 'older' }));
  const latest = await h.collect(await h.peer(), { topics: [TOPIC], group: 'fresh', startFrom: 'latest' });
  const newer = h.messages(TOPIC, 10, { label: 'newer' });
  await publisher.publish(newer);
  await h.waitForIds(() => latest.ids(), idsOf(newer), "a new group with startFrom 'latest'");
  await h.quiet();
  expectExactlyOnce(latest.ids(), idsOf(newer), "new group, startFrom 'latest'");
}

async function existingGroupKeepsPosition(h: Harness): Promise<void> {
  const publisher = await h.transport();
  const first = await h.collect(await h.peer(), { topics: [TOPIC], group: 'kept', startFrom: 'latest' });
  const handled = h.messages(TOPIC, 5, { label: 'handled' });
  await publisher.publish(handled);
  await h.waitForIds(() => first.ids(), idsOf(handled), 'the first member of group "kept"');
  await first.close();

  const missed = h.messages(TOPIC, 5, { label: 'while-closed' });
  await publisher.publish(missed);
  // The group exists: 'latest' must not move it past what it has not handled yet.
  const again = await h.collect(await h.peer(), { topics: [TOPIC], group: 'kept', startFrom: 'latest' });
  await h.waitForIds(() => again.ids(), idsOf(missed), 'group "kept" reopened with startFrom latest');
  await h.quiet();
  expectExactlyOnce(again.ids(), idsOf(missed), 'reopened member of group "kept"');
  expect(
    again.ids().filter((id) => id.startsWith('handled')),
    'messages the group handled before',
  ).toEqual([]);
}

/** Scenario: where a new consumer group starts, and that an existing one keeps its position. */
export const startFromScenario: Scenario = {
  name: 'start-from',
  tests: [
    {
      title:
        "a group created after messages were published receives every retained one, by default and with startFrom 'earliest'",
      requires: ['groups', 'durable'],
      run: newGroupTakesRetained,
    },
    {
      title: "a group created with startFrom 'latest' receives only what is published after it subscribed",
      requires: ['groups'],
      run: latestSkipsOlder,
    },
    {
      title: 'an existing group keeps its position whatever startFrom a later member asks for',
      requires: ['groups'],
      run: existingGroupKeepsPosition,
    },
  ],
};

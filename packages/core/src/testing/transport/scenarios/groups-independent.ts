import { expectExactlyOnce, idsOf } from '../assertions';
import type { Harness } from '../harness';
import type { Scenario } from '../scenario';

const TOPIC = 'conformance.shared';

async function groupsIndependent(h: Harness): Promise<void> {
  const publisher = await h.transport();
  const first = await h.collect(await h.peer(), { topics: [TOPIC], group: 'g1', concurrency: 2 });
  const second = await h.collect(await h.peer(), { topics: [TOPIC], group: 'g2', concurrency: 2 });
  // Published as soon as both subscriptions resolved, before either member has read anything.
  const early = h.messages(TOPIC, 20, { label: 'early' });
  await publisher.publish(early);
  await h.waitForIds(() => first.ids(), idsOf(early), 'group g1');
  await h.waitForIds(() => second.ids(), idsOf(early), 'group g2');

  await first.close();
  const late = h.messages(TOPIC, 20, { label: 'late' });
  await publisher.publish(late);
  await h.waitForIds(() => second.ids(), idsOf(late), 'group g2 while g1 has no member');
  const reopened = await h.collect(await h.peer(), { topics: [TOPIC], group: 'g1' });
  await h.waitForIds(
    () => reopened.ids(),
    idsOf(late),
    'group g1 reopened (published while it had no member)',
  );
  await h.quiet();
  expectExactlyOnce([...first.ids(), ...reopened.ids()], idsOf([...early, ...late]), 'group g1');
  expectExactlyOnce(second.ids(), idsOf([...early, ...late]), 'group g2');
}

async function keptFromSubscribe(h: Harness, group: string | undefined): Promise<void> {
  const publisher = await h.transport();
  const subscriber = group === undefined ? 'a subscriber without a group' : `new group "${group}"`;
  const collector = await h.collect(await h.peer(), {
    topics: [TOPIC],
    ...(group === undefined ? {} : { group }),
  });
  // No pause: subscribe() resolving is the promise that later messages are kept.
  const sent = h.messages(TOPIC, 5);
  await publisher.publish(sent);
  await h.waitForIds(() => collector.ids(), idsOf(sent), `${subscriber}, subscribed just before publishing,`);
  await h.quiet();
  expectExactlyOnce(collector.ids(), idsOf(sent), subscriber);
}

/** Scenario 8: groups each get every message, independently, from the moment they subscribed. */
export const groupsIndependentScenario: Scenario = {
  name: 'groups-independent',
  tests: [
    {
      title: 'groups g1 and g2 each get every message; g1 closed and reopened misses nothing',
      requires: ['groups'],
      run: groupsIndependent,
    },
    {
      title: 'a new group receives the messages published right after its subscribe() resolved',
      requires: ['groups'],
      run: (h) => keptFromSubscribe(h, 'fresh'),
    },
    {
      title:
        'a new subscriber without a group receives the messages published right after subscribe() resolved',
      run: (h) => keptFromSubscribe(h, undefined),
    },
  ],
};

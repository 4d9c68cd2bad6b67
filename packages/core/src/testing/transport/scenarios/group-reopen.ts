import { expect } from '../../expect';
import { expectExactlyOnce, idsOf } from '../assertions';
import type { Harness } from '../harness';
import type { Scenario } from '../scenario';

const TOPIC = 'conformance.backlog';
const BACKLOG = 50;

async function keepsBacklog(h: Harness): Promise<void> {
  const publisher = await h.transport();
  const before = await h.collect(await h.peer(), { topics: [TOPIC], group: 'mailer' });
  const warmUp = h.message(TOPIC, { label: 'warm-up' });
  await publisher.publish([warmUp]);
  await before.waitForCount(1, { message: 'the warm-up message' });
  await before.close();

  const backlog = h.messages(TOPIC, BACKLOG, { label: 'backlog' });
  await publisher.publish(backlog.slice(0, BACKLOG / 2));
  await publisher.publish(backlog.slice(BACKLOG / 2));
  // Another instance where instances share a backend: the group outlives the process that created it.
  const after = await h.collect(await h.peer(), { topics: [TOPIC], group: 'mailer' });

  const expected = idsOf(backlog);
  await h.waitForIds(() => after.ids(), expected, 'group "mailer" reopened after its only member closed');
  await h.quiet();
  expectExactlyOnce(after.ids(), expected, 'reopened member of group "mailer"');
  expect(before.ids(), 'the closed member received only what was published while it was open').toEqual([
    warmUp.id,
  ]);
}

/** Scenario 6: nothing published while a group has no member is lost. */
export const groupReopenScenario: Scenario = {
  name: 'group-reopen',
  tests: [
    {
      title: `${BACKLOG} messages published while the only member is closed reach it when the group is reopened`,
      requires: ['groups'],
      run: keepsBacklog,
    },
  ],
};

import { expectExactlyOnce, idsOf } from '../assertions';
import type { Harness } from '../harness';
import type { Scenario } from '../scenario';

const TOPIC = 'conformance.declared';

async function keepsBeforeFirstWorker(h: Harness): Promise<void> {
  const publisher = await h.transport();
  await publisher.declareGroup({ group: 'mailer', topics: [TOPIC], startFrom: 'latest' });
  const sent = h.messages(TOPIC, 30, { label: 'declared', key: 'k' });
  await publisher.publish(sent.slice(0, 10));
  await publisher.publish(sent.slice(10));
  // 'latest' would skip the backlog of a group that did not exist; the declaration created it.
  const worker = await h.collect(await h.peer(), { topics: [TOPIC], group: 'mailer', startFrom: 'latest' });
  await h.waitForIds(() => worker.ids(), idsOf(sent), 'the first member of a declared group');
  await h.quiet();
  expectExactlyOnce(worker.ids(), idsOf(sent), 'first member of declared group "mailer"');
}

async function patternCoversLaterTopics(h: Harness): Promise<void> {
  const publisher = await h.transport();
  await publisher.declareGroup({ group: 'audit', pattern: `${TOPIC}.*`, startFrom: 'latest' });
  // Topics nobody published to, or subscribed to, before the declaration.
  const sent = [...h.messages(`${TOPIC}.created`, 10), ...h.messages(`${TOPIC}.deleted`, 10)];
  await publisher.publish(sent);
  await publisher.publish([h.message('conformance.elsewhere')]);
  const worker = await h.collect(await h.peer(), {
    pattern: `${TOPIC}.*`,
    group: 'audit',
    startFrom: 'latest',
  });
  await h.waitForIds(() => worker.ids(), idsOf(sent), 'the first member of a group declared with a pattern');
  await h.quiet();
  expectExactlyOnce(worker.ids(), idsOf(sent), 'first member of declared group "audit"');
}

async function declaringAgainKeepsPosition(h: Harness): Promise<void> {
  const publisher = await h.transport();
  const declaration = { group: 'billing', topics: [TOPIC] } as const;
  await publisher.declareGroup(declaration);
  const first = h.messages(TOPIC, 5, { label: 'first' });
  await publisher.publish(first);
  const worker = await h.collect(await h.peer(), { topics: [TOPIC], group: 'billing' });
  await h.waitForIds(() => worker.ids(), idsOf(first), 'group "billing"');
  await worker.close();

  await publisher.declareGroup(declaration);
  await (await h.peer()).declareGroup(declaration);
  const second = h.messages(TOPIC, 5, { label: 'second' });
  await publisher.publish(second);
  const next = await h.collect(await h.peer(), { topics: [TOPIC], group: 'billing' });
  await h.waitForIds(() => next.ids(), idsOf(second), 'group "billing" after declaring it again');
  await h.quiet();
  expectExactlyOnce(next.ids(), idsOf(second), 'group "billing" after declaring it again');
}

/** Scenario: groups declared ahead of their workers keep what is published in between. */
export const declaredGroupsScenario: Scenario = {
  name: 'declared-groups',
  tests: [
    {
      title:
        'a group declared before any worker keeps every message, and its first member receives each once',
      requires: ['groups'],
      run: keepsBeforeFirstWorker,
    },
    {
      title: 'a group declared with a pattern keeps messages of topics first published after the declaration',
      requires: ['groups'],
      run: patternCoversLaterTopics,
    },
    {
      title: 'declaring a group again, from any instance, keeps its position',
      requires: ['groups'],
      run: declaringAgainKeepsPosition,
    },
  ],
};

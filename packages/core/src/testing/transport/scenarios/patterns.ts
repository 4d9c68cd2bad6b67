import { expectExactlyOnce } from '../assertions';
import type { Harness } from '../harness';
import type { Scenario } from '../scenario';

const TOPICS = [
  'task.created',
  'task.dates.changed',
  'project.created',
  'task',
  'taskboard.created',
] as const;

async function patternsWithoutGroup(h: Harness): Promise<void> {
  const publisher = await h.transport();
  const consumer = await h.peer();
  // Subscribed before any of the topics has a message: patterns match topics that appear later.
  const oneWord = await h.collect(consumer, { pattern: 'task.*' });
  const anyWords = await h.collect(consumer, { pattern: 'task.#' });
  const union = await h.collect(consumer, { topics: ['project.created'], pattern: 'task.*' });
  const sent = new Map(TOPICS.map((topic) => [topic, h.message(topic)]));
  const idOf = (topic: (typeof TOPICS)[number]): string => sent.get(topic)?.id ?? topic;
  await publisher.publish([...sent.values()]);

  const expectations = [
    { collector: oneWord, what: 'pattern "task.*"', expected: [idOf('task.created')] },
    {
      collector: anyWords,
      what: 'pattern "task.#"',
      expected: [idOf('task.created'), idOf('task.dates.changed'), idOf('task')],
    },
    {
      collector: union,
      what: 'topics ["project.created"] with pattern "task.*"',
      expected: [idOf('task.created'), idOf('project.created')],
    },
  ];
  for (const { collector, what, expected } of expectations) {
    await h.waitForIds(() => collector.ids(), expected, `subscriber with ${what}`);
  }
  await h.quiet();
  for (const { collector, what, expected } of expectations)
    expectExactlyOnce(collector.ids(), expected, what);
}

async function patternInGroup(h: Harness): Promise<void> {
  const publisher = await h.transport();
  const members = [
    await h.collect(await h.peer(), { pattern: 'task.#', group: 'audit', concurrency: 2 }),
    await h.collect(await h.peer(), { pattern: 'task.#', group: 'audit', concurrency: 2 }),
  ];
  const matching = [
    ...h.messages('task.created', 10),
    ...h.messages('task.dates.changed', 10),
    ...h.messages('task.assignee.added', 10),
  ];
  await publisher.publish([...matching, ...h.messages('project.created', 5)]);
  const handled = (): string[] => members.flatMap((member) => member.ids());
  const expected = matching.map((message) => message.id);
  await h.waitForIds(handled, expected, 'group "audit" on pattern "task.#"');
  await h.quiet();
  expectExactlyOnce(handled(), expected, 'group "audit" subscribed with pattern "task.#"');
}

/** Scenario 13: AMQP-style patterns, subscribed before their topics exist. */
export const patternsScenario: Scenario = {
  name: 'patterns',
  tests: [
    {
      title: '"*" matches one word, "#" zero or more, and topics plus pattern receive their union',
      run: patternsWithoutGroup,
    },
    {
      title: 'a group subscribed with a pattern gets each message of topics created later exactly once',
      requires: ['groups'],
      run: patternInGroup,
    },
  ],
};

import { compilePattern } from '@relaybus/core/transport-kit';
import { describe, expect, it } from 'vitest';
import { filterSpecs } from './consumer/filters';
import { consumerName, filterTails, hash32, Names, topicProblem } from './names';

describe('filterTails', () => {
  it.each([
    ['task.created', ['task.created']],
    ['task.*', ['task.*']],
    ['task.#', ['task', 'task.>']],
    ['*.#', ['*', '*.>']],
    ['#', ['>']],
    ['a.#.b', ['a.>']],
    ['#.b', ['>']],
  ])('%s -> %j', (pattern, tails) => {
    expect(filterTails(pattern)).toEqual(tails);
  });

  it('covers every topic the pattern matches (the accept predicate narrows the rest)', () => {
    const topics = [
      'task',
      'task.created',
      'task.dates.changed',
      'a.b',
      'a.x.b',
      'a.x.y.b',
      'b',
      'project.created',
    ];
    for (const pattern of ['task.#', 'a.#.b', '#.b', '*.created', '#', 'task.*']) {
      const match = compilePattern(pattern);
      const covered = (topic: string): boolean =>
        filterTails(pattern).some((tail) => natsMatches(tail, topic));
      for (const topic of topics)
        if (match(topic)) expect(covered(topic), `${pattern} covers ${topic}`).toBe(true);
    }
  });
});

describe('filterSpecs', () => {
  it('leaves the exact topics to their own consumers, so topics plus pattern never deliver twice', () => {
    const match = compilePattern('task.*');
    const [topic, pattern] = filterSpecs({ topics: ['task.created'], pattern: 'task.*', match });
    expect(topic?.accepts('task.created')).toBe(true);
    expect(pattern?.accepts('task.created')).toBe(false);
    expect(pattern?.accepts('task.deleted')).toBe(true);
    expect(pattern?.identity).toBe('pattern task.* without task.created');
  });
});

describe('names', () => {
  const names = new Names('shop', 'shop');
  it('routes a key to the same partition in every process, unkeyed messages to lane u', () => {
    expect(names.lane('order-1', 4)).toBe(`k${hash32('order-1') % 4}`);
    expect(names.lane(undefined, 4)).toBe('u');
    expect(names.topicOf(names.subject('k3', 'order.placed'))).toBe('order.placed');
  });

  it('refuses topics that cannot be subjects', () => {
    expect(topicProblem('order.placed')).toBeUndefined();
    expect(topicProblem('order..placed')).toMatch(/empty/);
    expect(topicProblem('order.>')).toMatch(/wildcards/);
    expect(topicProblem('order placed')).toMatch(/whitespace/);
  });

  it('names consumers readably and apart', () => {
    const a = consumerName('billing.v2', 'task.created', 'u');
    expect(a).toMatch(/^billing_v2_u_[0-9a-z]+$/);
    expect(consumerName('billing_v2', 'task.created', 'u')).not.toBe(a);
  });
});

/** NATS subject matching: `*` one token, `>` one or more at the end. */
function natsMatches(filter: string, subject: string): boolean {
  const f = filter.split('.');
  const s = subject.split('.');
  for (let index = 0; index < f.length; index++) {
    if (f[index] === '>') return s.length > index;
    if (index >= s.length || (f[index] !== '*' && f[index] !== s[index])) return false;
  }
  return f.length === s.length;
}

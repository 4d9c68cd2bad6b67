import { InvalidOptionError } from '@relaybus/core';
import { describe, expect, it } from 'vitest';
import { checkPrefix, KeySpace, partitionOfKey, topicProblem } from './names';

describe('key naming', () => {
  it('puts every key of a topic under one Cluster hash tag', () => {
    const keys = new KeySpace('app');
    const tagged = [
      keys.stream('task.created', 3),
      keys.delayed('task.created'),
      keys.leases('task.created', 'g'),
    ];
    expect(tagged.map((key) => key.match(/\{([^}]*)\}/)?.[1])).toEqual([
      'task.created',
      'task.created',
      'task.created',
    ]);
    expect(keys.members('t', 'mailer')).toBe('app:{t}:m:mailer');
  });

  it('maps a key to the same partition everywhere, spreading keys over partitions', () => {
    expect(partitionOfKey('task-1', 8)).toBe(partitionOfKey('task-1', 8));
    const used = new Set(Array.from({ length: 200 }, (_, index) => partitionOfKey(`key-${index}`, 8)));
    expect(used.size).toBe(8);
    // Fixed values: changing the hash would move keys between partitions across a deploy.
    expect([partitionOfKey('a', 8), partitionOfKey('task-42', 16), partitionOfKey('ünï', 7)]).toEqual([
      4, 5, 5,
    ]);
  });

  it('refuses names that would break key naming', () => {
    for (const bad of ['a b', 'a{b', 'x}', '', '~e:1', 'tab\t']) {
      expect(() => checkPrefix(bad, 'test'), bad).toThrow(InvalidOptionError);
    }
    expect(() => checkPrefix('billing.mailer:v2/eu@1-a_b', 'test')).not.toThrow();
    expect(topicProblem('task.created')).toBeUndefined();
    expect(topicProblem('task{x}')).toMatch(/braces/);
    expect(topicProblem('')).toMatch(/non-empty/);
  });
});

import { describe, expect, it } from 'vitest';
import { InvalidPatternError } from '../errors';
import { compilePattern } from './topic-pattern';

describe('compilePattern (AMQP topic rules)', () => {
  const cases: Array<[string, string, boolean]> = [
    ['task.*', 'task.created', true],
    ['task.*', 'task.dates.changed', false],
    ['task.*', 'task', false],
    ['task.#', 'task', true],
    ['task.#', 'task.dates.changed', true],
    ['#', 'anything.at.all', true],
    ['#.created', 'task.created', true],
    ['#.created', 'created', true],
    ['*.created', 'project.created', true],
    ['a.#.z', 'a.z', true],
    ['a.#.z', 'a.b.c.z', true],
    ['a.#.z', 'a.b.c', false],
    ['a.*.#', 'a', false],
    ['task.created', 'task.created', true],
    ['task.created', 'task.createdx', false],
  ];
  it.each(cases)('%s against %s is %s', (pattern, topic, expected) => {
    expect(compilePattern(pattern)(topic)).toBe(expected);
  });

  it('refuses malformed patterns with the reason', () => {
    expect(() => compilePattern('')).toThrow(InvalidPatternError);
    expect(() => compilePattern('task..x')).toThrow(/word 2 is empty/);
    expect(() => compilePattern('task.*x')).toThrow(/mixes a wildcard/);
  });
});

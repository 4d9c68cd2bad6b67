import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { InvalidOptionError } from '../errors';
import { defineEvent } from '../events/define-event';
import { defineAggregate } from './define-aggregate';

const Counted = defineEvent('counter.counted', z.object({ by: z.number() }));
const base = { name: 'counter', events: [Counted], initialState: () => 0, evolve: (n: number) => n + 1 };

describe('defineAggregate', () => {
  it('names streams "name-id" unless told otherwise', () => {
    expect(defineAggregate(base).streamOf('c1')).toBe('counter-c1');
    expect(defineAggregate({ ...base, streamOf: (id) => `counters/${id}` }).streamOf('c1')).toBe(
      'counters/c1',
    );
  });

  it('applies the snapshot policy defaults', () => {
    expect(defineAggregate(base).snapshot).toBeUndefined();
    expect(defineAggregate({ ...base, snapshot: { schemaVersion: 2 } }).snapshot).toEqual({
      schemaVersion: 2,
      every: 100,
    });
  });

  it.each([
    ['name', { name: '' }],
    ['initialState', { initialState: {} }],
    ['evolve', { evolve: undefined }],
    ['events', { events: [] }],
    ['streamOf', { streamOf: 'task' }],
    ['snapshot.schemaVersion', { snapshot: { schemaVersion: 0 } }],
    ['snapshot.every', { snapshot: { schemaVersion: 1, every: 0.5 } }],
  ])('rejects a bad %s', (option, override) => {
    const attempt = () => defineAggregate({ ...base, ...override } as never);
    expect(attempt).toThrow(InvalidOptionError);
    expect(attempt).toThrow(expect.objectContaining({ option }));
  });
});

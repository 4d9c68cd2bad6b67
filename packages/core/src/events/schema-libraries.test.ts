import { type } from 'arktype';
import * as v from 'valibot';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { z as z3 } from 'zod3';
import { createEventBus } from '../bus/create-event-bus';
import { InvalidOptionError, ValidationError } from '../errors';
import { silentLogger } from '../logger';
import { type AnyEventDefinition, defineEvent } from './define-event';

const libraries: ReadonlyArray<{ readonly name: string; readonly define: () => AnyEventDefinition }> = [
  {
    name: 'zod 4',
    define: () => defineEvent('task.created', z.object({ taskId: z.string(), estimate: z.number().int() })),
  },
  {
    name: 'zod 3.25',
    define: () =>
      defineEvent('task.created', z3.object({ taskId: z3.string(), estimate: z3.number().int() })),
  },
  {
    name: 'valibot 1',
    define: () =>
      defineEvent(
        'task.created',
        v.object({ taskId: v.string(), estimate: v.pipe(v.number(), v.integer()) }),
      ),
  },
  {
    name: 'arktype 2 (a callable schema)',
    define: () => defineEvent('task.created', type({ taskId: 'string', estimate: 'number.integer' })),
  },
];

describe.each(libraries)('events defined with $name', ({ define }) => {
  it('validates on create and publish, naming each issue path, and delivers valid data', async () => {
    const TaskCreated = define();
    expect(TaskCreated.create({ taskId: 't1', estimate: 3 }).data).toEqual({ taskId: 't1', estimate: 3 });
    let thrown: unknown;
    try {
      TaskCreated.create({ taskId: 1, estimate: 1.5 });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ValidationError);
    const paths = (thrown as ValidationError).issues.map((issue) => issue.path.join('.')).sort();
    expect(paths).toEqual(['estimate', 'taskId']);

    const bus = createEventBus({ events: [TaskCreated], logger: silentLogger });
    const seen: unknown[] = [];
    await bus.subscribe(TaskCreated, (event) => seen.push(event.data));
    await bus.publish(TaskCreated, { taskId: 't2', estimate: 5 });
    await expect(bus.publish(TaskCreated, { taskId: 't3' } as never)).rejects.toBeInstanceOf(ValidationError);
    await vi.waitFor(() => expect(seen).toEqual([{ taskId: 't2', estimate: 5 }]));
    await bus.close();
  });
});

describe('values that are not Standard Schema validators', () => {
  it.each([
    ['null', null],
    ['a plain function', () => true],
    ['an object without ~standard', { parse: () => true }],
    ['a wrong ~standard version', { '~standard': { version: 2, validate: () => ({ value: 1 }) } }],
  ])('refuses %s with InvalidOptionError naming "schema"', (_name, schema) => {
    expect(() => defineEvent('task.created', schema as never)).toThrow(InvalidOptionError);
    expect(() => defineEvent('task.created', schema as never)).toThrow(
      /option "schema" must be a Standard Schema/,
    );
  });
});

import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { InvalidOptionError } from '../errors';
import { defineEvent } from '../events/define-event';
import { defineProjection } from './define-projection';

const TaskCreated = defineEvent('task.created', z.object({ taskId: z.string(), title: z.string() }));
const TaskCompleted = defineEvent('task.completed', z.object({ taskId: z.string() }));

describe('defineProjection', () => {
  it('describes the projection with its checkpoint name and types', () => {
    const projection = defineProjection({
      name: 'task-board',
      version: 3,
      events: [TaskCreated, TaskCompleted],
      handlers: { 'task.created': () => {} },
    });
    expect(projection).toMatchObject({
      name: 'task-board',
      version: 3,
      checkpointName: 'task-board@v3',
      types: ['task.created', 'task.completed'],
    });
    expect(defineProjection({ name: 'p', events: [TaskCreated], handlers: {} }).checkpointName).toBe('p@v1');
  });

  it.each([
    ['name', { name: ' ', events: [TaskCreated], handlers: {} }],
    ['version', { name: 'p', version: 0, events: [TaskCreated], handlers: {} }],
    ['version', { name: 'p', version: 1.5, events: [TaskCreated], handlers: {} }],
    ['events', { name: 'p', events: [], handlers: {} }],
    ['events[1]', { name: 'p', events: [TaskCreated, TaskCreated], handlers: {} }],
    ['events[0]', { name: 'p', events: [{ type: 'x' }], handlers: {} }],
    [
      'handlers.task.completed',
      { name: 'p', events: [TaskCreated], handlers: { 'task.completed': () => {} } },
    ],
    ['handlers.task.created', { name: 'p', events: [TaskCreated], handlers: { 'task.created': 'nope' } }],
  ])('rejects a bad %s', (option, options) => {
    const attempt = () => defineProjection(options as never);
    expect(attempt).toThrow(InvalidOptionError);
    expect(attempt).toThrow(expect.objectContaining({ option }));
  });
});

import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { defineEvent, type EventOf } from '../events/define-event';
import type { Envelope } from '../events/envelope';
import type { EventStore } from '../store/event-store';
import { defineAggregate } from './define-aggregate';
import { loadAggregate } from './load-aggregate';

const TaskCreated = defineEvent('task.created', z.object({ taskId: z.string(), title: z.string() }));
const TaskCompleted = defineEvent('task.completed', z.object({ taskId: z.string() }));
const ProjectCreated = defineEvent('project.created', z.object({ projectId: z.string() }));
declare const store: EventStore;

const Task = defineAggregate({
  name: 'task',
  events: [TaskCreated, TaskCompleted],
  initialState: () => ({ title: '', done: false }),
  evolve: (state, event) => {
    expectTypeOf(event).toEqualTypeOf<EventOf<typeof TaskCreated> | EventOf<typeof TaskCompleted>>();
    switch (event.type) {
      case 'task.created':
        return { ...state, title: event.data.title };
      case 'task.completed':
        return { ...state, done: true };
    }
  },
});

describe('aggregate types', () => {
  it('infers the state from initialState and narrows events in evolve', async () => {
    const task = await loadAggregate(store, Task, 't1');
    expectTypeOf(task.state).toEqualTypeOf<{ title: string; done: boolean }>();
    expectTypeOf(task.version).toEqualTypeOf<number>();
  });

  it('raises only the aggregate events, with their payload types', async () => {
    const task = await loadAggregate(store, Task, 't1');
    const created = task.raise(TaskCreated, { taskId: 't1', title: 'Write' });
    expectTypeOf(created).toEqualTypeOf<EventOf<typeof TaskCreated>>();
    // @ts-expect-error title is required
    task.raise(TaskCreated, { taskId: 't1' });
    // @ts-expect-error project.created is not an event of the task aggregate
    task.raise(ProjectCreated, { projectId: 'p1' });
    // @ts-expect-error the subject is always the aggregate id
    task.raise(TaskCompleted, { taskId: 't1' }, { subject: 'other' });
    expectTypeOf(task.pullEvents()).toEqualTypeOf<
      Array<EventOf<typeof TaskCreated> | EventOf<typeof TaskCompleted>>
    >();
    expectTypeOf(task.pullEvents()).toExtend<Envelope[]>();
  });
});

import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { defineEvent, type EventOf } from '../events/define-event';
import type { EventStore } from '../store/event-store';
import { defineProjection, type ProjectionContext } from './define-projection';
import { memoryCheckpointStore } from './memory-checkpoint-store';
import { memoryReadModel } from './memory-read-model';
import { startProjection } from './start-projection';

const TaskCreated = defineEvent('task.created', z.object({ taskId: z.string(), title: z.string() }));
const TaskCompleted = defineEvent('task.completed', z.object({ taskId: z.string() }));
const ProjectCreated = defineEvent('project.created', z.object({ projectId: z.string() }));
type Board = Map<string, { title: string; done: boolean }>;
declare const store: EventStore;

describe('projection handlers are typed per event', () => {
  it('gives each handler its own stored event and the model annotated on one ctx', () => {
    const board = defineProjection({
      name: 'task-board',
      events: [TaskCreated, TaskCompleted],
      handlers: {
        'task.created': (event, ctx: ProjectionContext<Board>) => {
          expectTypeOf(event).toExtend<EventOf<typeof TaskCreated>>();
          expectTypeOf(event.type).toEqualTypeOf<'task.created'>();
          expectTypeOf(event.data).toEqualTypeOf<{ taskId: string; title: string }>();
          expectTypeOf(event.position).toEqualTypeOf<string>();
          ctx.model.set(event.data.taskId, { title: event.data.title, done: false });
        },
        'task.completed': (event, { model, position, rebuilding }) => {
          expectTypeOf(event.data).toEqualTypeOf<{ taskId: string }>();
          expectTypeOf(model).toEqualTypeOf<Board>();
          expectTypeOf(position).toEqualTypeOf<string>();
          expectTypeOf(rebuilding).toEqualTypeOf<boolean>();
        },
      },
    });
    expectTypeOf(board.types).toEqualTypeOf<ReadonlyArray<'task.created' | 'task.completed'>>();
    startProjection(board, {
      store,
      checkpoints: memoryCheckpointStore(),
      model: memoryReadModel((): Board => new Map()),
    });
    startProjection(board, {
      store,
      checkpoints: memoryCheckpointStore(),
      // @ts-expect-error the read model must hold the projection's model type
      model: memoryReadModel(() => new Set()),
    });
  });

  it('refuses handlers for types that are not listed in events', () => {
    defineProjection({
      name: 'p',
      events: [TaskCreated],
      handlers: {
        'task.created': () => {},
        // @ts-expect-error project.created is not one of the projection's events
        'project.created': () => {},
      },
    });
    void ProjectCreated;
  });

  it('refuses a handler whose event type does not match its key', () => {
    defineProjection({
      name: 'p',
      events: [TaskCreated, TaskCompleted],
      handlers: {
        // @ts-expect-error task.completed handlers receive task.completed events
        'task.completed': (_event: EventOf<typeof TaskCreated>) => {},
      },
    });
  });

  it('allows handlers for only some of the events', () => {
    const projection = defineProjection({ name: 'p', events: [TaskCreated, TaskCompleted], handlers: {} });
    expectTypeOf(projection.handlers).toHaveProperty('task.created');
  });
});

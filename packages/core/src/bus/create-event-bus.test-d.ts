import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { defineEvent, type EventOf } from '../events/define-event';
import { createEventBus } from './create-event-bus';

const TaskCreated = defineEvent('task.created', z.object({ taskId: z.string(), title: z.string() }));
const TaskDatesChanged = defineEvent(
  'task.dates.changed',
  z.object({ taskId: z.string(), endDate: z.string() }),
);
const ProjectCreated = defineEvent('project.created', z.object({ projectId: z.string(), name: z.string() }));
const Unlisted = defineEvent('unlisted.event', z.object({ n: z.number() }));
const bus = createEventBus({ events: [TaskCreated, TaskDatesChanged, ProjectCreated] });

describe('event types flow from definitions to handlers', () => {
  it('types a handler for one definition', () => {
    bus.subscribe(TaskCreated, (event) => {
      expectTypeOf(event.type).toEqualTypeOf<'task.created'>();
      expectTypeOf(event.data.title).toEqualTypeOf<string>();
    });
  });

  it('types a list of definitions as their union', () => {
    bus.subscribe([TaskCreated, ProjectCreated], (event) => {
      expectTypeOf(event).toEqualTypeOf<EventOf<typeof TaskCreated> | EventOf<typeof ProjectCreated>>();
      if (event.type === 'project.created') expectTypeOf(event.data.name).toEqualTypeOf<string>();
    });
  });

  it('types a pattern as the union of the catalog events it matches', () => {
    bus.subscribe('task.*', (event) => {
      expectTypeOf(event).toEqualTypeOf<EventOf<typeof TaskCreated>>();
    });
    bus.subscribe('task.#', (event) => {
      expectTypeOf(event.type).toEqualTypeOf<'task.created' | 'task.dates.changed'>();
    });
    bus.subscribe('#.created', (event) => {
      expectTypeOf(event.type).toEqualTypeOf<'task.created' | 'project.created'>();
    });
  });

  it('types the publish payload and result', async () => {
    const event = await bus.publish(TaskCreated, { taskId: 't1', title: 'Write' });
    expectTypeOf(event.data).toEqualTypeOf<{ taskId: string; title: string }>();
    // @ts-expect-error title must be a string
    await bus.publish(TaskCreated, { taskId: 't1', title: 42 });
    // @ts-expect-error title is required
    await bus.publish(TaskCreated, { taskId: 't1' });
    // @ts-expect-error the definition is not in the catalog
    await bus.publish(Unlisted, { n: 1 });
  });

  it('types ctx.publish over the catalog', () => {
    bus.subscribe(TaskCreated, async (event, ctx) => {
      expectTypeOf(ctx.attempt).toEqualTypeOf<number>();
      expectTypeOf(ctx.signal).toEqualTypeOf<AbortSignal>();
      await ctx.publish(ProjectCreated, { projectId: event.data.taskId, name: 'x' });
      // @ts-expect-error wrong payload for the definition
      await ctx.publish(ProjectCreated, { projectId: 1 });
    });
  });

  it('rejects a definition outside the catalog in subscribe', () => {
    // @ts-expect-error the definition is not in the catalog
    bus.subscribe(Unlisted, () => {});
  });
});

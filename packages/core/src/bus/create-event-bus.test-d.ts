import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { defineEvent, type EventOf } from '../events/define-event';
import type { Envelope } from '../events/envelope';
import type { EventStore } from '../store/event-store';
import { memoryEventStore } from '../store/memory-event-store';
import { createEventBus } from './create-event-bus';
import type { PendingSubscription, Subscription } from './types';

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

describe('handlers may return anything', () => {
  it('accepts expression bodies and async functions with results', () => {
    const seen: Envelope[] = [];
    bus.subscribe(TaskCreated, (event) => seen.push(event));
    bus.subscribe(TaskCreated, async (event) => ({ indexed: event.data.taskId }));
    bus.subscribe('task.*', async () => new Response('ok'));
  });
});

describe('subscribe targets that match nothing', () => {
  it('refuses a pattern or type that matches no event of the catalog', () => {
    // @ts-expect-error types are case-sensitive: 'TASK.*' matches nothing
    bus.subscribe('TASK.*', () => {});
    // @ts-expect-error no catalog type is "task.renamed"
    bus.subscribe('task.renamed', () => {});
    // @ts-expect-error declareGroup follows the same rule
    void bus.declareGroup('project.*.x', { group: 'g' });
    bus.subscribe('project.*', () => {});
  });
});

describe('awaiting subscribe', () => {
  it('returns a usable handle that resolves to a subscription once registered', async () => {
    const pending = bus.subscribe(TaskCreated, () => {}, { group: 'mailer', startFrom: 'latest' });
    expectTypeOf(pending).toEqualTypeOf<PendingSubscription>();
    expectTypeOf(pending.state).toEqualTypeOf<
      'starting' | 'retrying' | 'active' | 'failed' | 'closing' | 'closed'
    >();
    const sub = await pending;
    expectTypeOf(sub).toEqualTypeOf<Subscription>();
  });
});

describe("publishing in the caller's transaction", () => {
  interface FakeClient {
    query(sql: string): Promise<unknown>;
  }
  const outboxStore = { ...memoryEventStore(), outbox: true } as EventStore<FakeClient>;
  const client: FakeClient = { query: async () => undefined };

  it("types `transaction` as the store's transaction type", async () => {
    const outboxBus = createEventBus({ events: [TaskCreated], store: outboxStore });
    await outboxBus.publish(TaskCreated, { taskId: 't', title: 'x' }, { transaction: client });
    // @ts-expect-error not the store's transaction type
    await outboxBus.publish(TaskCreated, { taskId: 't', title: 'x' }, { transaction: 'BEGIN' });
    outboxBus.subscribe(TaskCreated, async (event, ctx) => {
      await ctx.publish(TaskCreated, event.data, { transaction: client });
    });
  });

  it('does not compile a transaction for a bus without a transactional store', async () => {
    const plain = createEventBus({ events: [TaskCreated], store: memoryEventStore() });
    // @ts-expect-error the memory store has no transactions
    await plain.publish(TaskCreated, { taskId: 't', title: 'x' }, { transaction: client });
    // @ts-expect-error no store at all
    await bus.publish(TaskCreated, { taskId: 't', title: 'x' }, { transaction: client });
  });
});

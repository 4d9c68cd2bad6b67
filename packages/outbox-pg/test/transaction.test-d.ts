import type { AppendOptions, EventStore } from '@relaybus/core';
import { createEventBus, defineEvent, memoryEventStore, memoryTransport } from '@relaybus/core';
import type pg from 'pg';
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import type { PostgresAppendOptions, PostgresEventStore } from '../src/index';
import { createOutboxRelay, postgresEventStore } from '../src/index';

declare const pool: pg.Pool;
declare const client: pg.PoolClient;
declare const plainClient: pg.Client;

const TaskCompleted = defineEvent('task.completed', z.object({ taskId: z.string() }));

describe("one word for the caller's transaction", () => {
  it('the Postgres store is an outbox whose transaction is a pg client', () => {
    const store = postgresEventStore({ pool });
    expectTypeOf(store).toMatchTypeOf<EventStore<pg.ClientBase>>();
    expectTypeOf(store.outbox).toEqualTypeOf<true>();
    expectTypeOf<PostgresAppendOptions>().toMatchTypeOf<AppendOptions<pg.ClientBase>>();
    void store.append('task-1', [], { transaction: client, expectedVersion: 0 });
    void store.append('task-1', [], { transaction: plainClient, requireTransaction: false });
    // @ts-expect-error the option is `transaction`, as for bus.publish and jobs.enqueue
    void store.append('task-1', [], { client });
  });

  it('bus.publish takes the store’s client as its transaction', () => {
    const bus = createEventBus({ events: [TaskCompleted], store: postgresEventStore({ pool }) });
    void bus.publish(TaskCompleted, { taskId: 't1' }, { transaction: client });
    // @ts-expect-error a transaction is a pg client, not anything
    void bus.publish(TaskCompleted, { taskId: 't1' }, { transaction: 'BEGIN' });
    // The relay takes that bus (its transport) as it is.
    createOutboxRelay({ pool, bus });
  });

  it('a bus without an outbox store takes no transaction', () => {
    const bus = createEventBus({
      events: [TaskCompleted],
      store: memoryEventStore(),
      transport: memoryTransport(),
    });
    // @ts-expect-error the memory store has no transactions
    void bus.publish(TaskCompleted, { taskId: 't1' }, { transaction: client });
  });

  it('PostgresEventStore is assignable where core expects an event store of pg clients', () => {
    expectTypeOf<PostgresEventStore>().toMatchTypeOf<EventStore<pg.ClientBase>>();
  });
});

import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { InvalidOptionError, VersionConflictError } from '../errors';
import { defineEvent } from '../events/define-event';
import type { Envelope } from '../events/envelope';
import { silentLogger } from '../logger';
import type { AppendOptions, EventStore, StoredEvent } from '../store/event-store';
import { memoryEventStore } from '../store/memory-event-store';
import { memoryTransport } from '../transport/memory-transport';
import type { TransportMessage } from '../transport/transport';
import { createEventBus } from './create-event-bus';
import type { EventBus } from './types';

const TaskCreated = defineEvent('task.created', z.object({ taskId: z.string() }));
const Pinged = defineEvent('pinged', z.object({}));
const events = [TaskCreated, Pinged] as const;
const buses: Array<EventBus<(typeof events)[number]>> = [];
afterEach(async () => {
  await Promise.all(buses.splice(0).map((bus) => bus.close()));
});

describe('a bus with an event store', () => {
  it('appends before delivering, and delivered events carry their position and stream', async () => {
    const store = memoryEventStore();
    const bus = createEventBus({ events, store, logger: silentLogger });
    buses.push(bus);
    const seen: Envelope[] = [];
    await bus.subscribe(TaskCreated, (event) => void seen.push(event)).ready;
    const published = await bus.publish(TaskCreated, { taskId: 't1' }, { subject: 'task-t1' });
    await bus.publish(TaskCreated, { taskId: 't1' }, { subject: 'task-t1' });
    await bus.publish(Pinged, {});
    await vi.waitFor(() => expect(seen).toHaveLength(2));
    expect(published).toMatchObject({ stream: 'task-t1', streamVersion: 1 });
    expect(seen[0]).toEqual(published);
    expect(seen[1]).toMatchObject({ stream: 'task-t1', streamVersion: 2 });
    const stored: StoredEvent[] = [];
    for await (const event of store.readAll()) stored.push(event);
    expect(stored.map((e) => [e.stream, e.streamVersion])).toEqual([
      ['task-t1', 1],
      ['task-t1', 2],
      ['pinged', 1],
    ]);
    expect(seen[1]?.position).toBe(stored[1]?.position);
  });

  it('enforces expectedVersion and sends nothing when the append fails', async () => {
    const store = memoryEventStore();
    const bus = createEventBus({
      events,
      store,
      logger: silentLogger,
      streamOf: (e) => `custom-${e.subject}`,
    });
    buses.push(bus);
    const seen: Envelope[] = [];
    await bus.subscribe(TaskCreated, (event) => void seen.push(event)).ready;
    await bus.publish(TaskCreated, { taskId: 'a' }, { subject: 'a', expectedVersion: 'no_stream' });
    const conflict = bus.publish(
      TaskCreated,
      { taskId: 'a' },
      { subject: 'a', expectedVersion: 'no_stream' },
    );
    await expect(conflict).rejects.toBeInstanceOf(VersionConflictError);
    await expect(conflict).rejects.toMatchObject({ stream: 'custom-a', expected: 'no_stream', actual: 1 });
    await vi.waitFor(() => expect(seen).toHaveLength(1));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(seen).toHaveLength(1);
  });
});

describe('set-up 1: a memory store, the bus sends', () => {
  it('handles each published event exactly once per group, across group members', async () => {
    const bus = createEventBus({ events, store: memoryEventStore(), logger: silentLogger });
    buses.push(bus);
    const handled: Record<string, string[]> = { mail: [], audit: [] };
    for (const group of ['mail', 'audit'] as const) {
      for (let member = 0; member < 2; member++) {
        await bus.subscribe(TaskCreated, (event) => void handled[group]?.push(event.data.taskId), {
          group,
          concurrency: 4,
        });
      }
    }
    const ids = Array.from({ length: 200 }, (_, i) => `t${i}`);
    await Promise.all(ids.map((taskId) => bus.publish(TaskCreated, { taskId }, { subject: taskId })));
    await vi.waitFor(() => expect(handled['mail']).toHaveLength(200));
    await vi.waitFor(() => expect(handled['audit']).toHaveLength(200));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect([...(handled['mail'] ?? [])].sort()).toEqual([...ids].sort());
    expect([...(handled['audit'] ?? [])].sort()).toEqual([...ids].sort());
  });

  it('refuses a transaction: the memory store has none, and the bus would send before a commit', async () => {
    const bus = createEventBus({ events, store: memoryEventStore(), logger: silentLogger });
    buses.push(bus);
    const publish = bus.publish(TaskCreated, { taskId: 'a' }, { transaction: {} as never });
    await expect(publish).rejects.toBeInstanceOf(InvalidOptionError);
    await expect(publish).rejects.toThrow(/"transaction" needs an outbox store; the memory store is not one/);
  });
});

describe('an outbox store: the bus only appends', () => {
  interface Recorded {
    readonly stream: string;
    readonly transaction: unknown;
  }
  function outboxStore(appends: Recorded[]): EventStore<{ id: string }> {
    const inner = memoryEventStore();
    return {
      ...inner,
      outbox: true,
      append(stream, batch, options: AppendOptions<{ id: string }> = {}) {
        appends.push({ stream, transaction: options.transaction });
        const { transaction: _transaction, ...rest } = options;
        return inner.append(stream, batch, rest);
      },
    };
  }

  it('appends in the caller transaction through the middleware and never sends to the transport', async () => {
    const appends: Recorded[] = [];
    const sent: TransportMessage[] = [];
    const transport = memoryTransport();
    const spy = Object.create(transport) as typeof transport;
    spy.publish = (messages) => {
      sent.push(...messages);
      return transport.publish(messages);
    };
    const bus = createEventBus({ events, store: outboxStore(appends), transport: spy, logger: silentLogger });
    buses.push(bus);
    const traced: string[] = [];
    bus.use({
      name: 'trace',
      publish: async (ctx, next) => {
        traced.push(ctx.envelope.type);
        await next();
      },
    });
    const tx = { id: 'tx-1' };
    const event = await bus.publish(TaskCreated, { taskId: 'a' }, { subject: 'a', transaction: tx });
    await bus.publish(Pinged, {});
    expect(event).toMatchObject({ stream: 'a', streamVersion: 1 });
    expect(appends).toEqual([
      { stream: 'a', transaction: tx },
      { stream: 'pinged', transaction: undefined },
    ]);
    expect(traced).toEqual(['task.created', 'pinged']);
    expect(sent, 'the relay, not the bus, sends what an outbox holds').toEqual([]);
  });

  it('refuses delayMs, which an outbox relay does not carry', async () => {
    const bus = createEventBus({ events, store: outboxStore([]), logger: silentLogger });
    buses.push(bus);
    await expect(bus.publish(TaskCreated, { taskId: 'a' }, { delayMs: 1_000 })).rejects.toThrow(
      /"delayMs" is not carried through the memory outbox/,
    );
  });
});

describe('a bus without a store', () => {
  it('refuses a transaction, naming what it needs', async () => {
    const bus = createEventBus({ events, logger: silentLogger });
    buses.push(bus);
    await expect(bus.publish(TaskCreated, { taskId: 'a' }, { transaction: {} as never })).rejects.toThrow(
      /"transaction" needs a bus with an outbox store/,
    );
  });
});

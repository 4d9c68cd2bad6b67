import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { VersionConflictError } from '../errors';
import { defineEvent } from '../events/define-event';
import type { Envelope } from '../events/envelope';
import { silentLogger } from '../logger';
import type { StoredEvent } from '../store/event-store';
import { memoryEventStore } from '../store/memory-event-store';
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

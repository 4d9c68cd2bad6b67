import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import {
  ClosedError,
  InvalidOptionError,
  InvalidPatternError,
  RelaybusError,
  TransportUnavailableError,
} from '../errors';
import { defineEvent } from '../events/define-event';
import type { Logger } from '../logger';
import { memoryTransport } from '../transport/memory-transport';
import type { Transport } from '../transport/transport';
import { createEventBus } from './create-event-bus';
import type { EventBus } from './types';

const TaskCreated = defineEvent('task.created', z.object({ taskId: z.string() }));
const TaskDeleted = defineEvent('task.deleted', z.object({ taskId: z.string() }));
const events = [TaskCreated, TaskDeleted] as const;

interface LogEntry {
  readonly level: keyof Logger;
  readonly message: string;
}

function recordingLogger(entries: LogEntry[]): Logger {
  const at = (level: keyof Logger) => (message: string) => void entries.push({ level, message });
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** A memory transport whose first `failures` subscribe calls fail with `error()`. */
function flakyTransport(failures: number, error: () => Error): Transport & { calls: number } {
  const inner = memoryTransport();
  const flaky = Object.create(inner) as Transport & { calls: number };
  flaky.calls = 0;
  flaky.subscribe = (options, handler) => {
    flaky.calls += 1;
    if (flaky.calls <= failures) return Promise.reject(error());
    return inner.subscribe(options, handler);
  };
  return flaky;
}

const unavailable = (): Error =>
  new TransportUnavailableError('flaky', '127.0.0.1:1', 'is not reachable (test)');

const buses: Array<EventBus<(typeof events)[number]>> = [];
afterEach(async () => {
  await Promise.all(buses.splice(0).map((bus) => bus.close({ timeoutMs: 1_000 })));
});
function busOver(transport: Transport, logs: LogEntry[] = []) {
  const bus = createEventBus({ events, transport, logger: recordingLogger(logs) });
  buses.push(bus);
  return bus;
}

describe('registering a subscription', () => {
  it('retries while the transport cannot be reached, reports it, then delivers', async () => {
    const transport = flakyTransport(3, unavailable);
    const logs: LogEntry[] = [];
    const bus = busOver(transport, logs);
    const seen: string[] = [];
    const sub = bus.subscribe(TaskCreated, (event) => seen.push(event.data.taskId), { group: 'mailer' });
    expect(sub.state).toBe('starting');
    await vi.waitFor(() => expect(sub.state).toBe('retrying'));
    expect(sub.lastError).toBeInstanceOf(TransportUnavailableError);
    expect(sub.lastError?.message).toContain('127.0.0.1:1');
    const registered = await sub;
    expect(registered.state).toBe('active');
    expect(transport.calls).toBe(4);
    await bus.publish(TaskCreated, { taskId: 't1' });
    await vi.waitFor(() => expect(seen).toEqual(['t1']));
    const warnings = logs.filter((entry) => entry.level === 'warn');
    expect(warnings[0]?.message).toMatch(/subscribe\("task.created"\) could not register.*attempt 1/);
    expect(logs.some((entry) => entry.level === 'info' && /after 4 attempts/.test(entry.message))).toBe(true);
  });

  it('fails at once, and says why, when the transport refuses the subscription', async () => {
    const refused = new InvalidOptionError('flaky.subscribe()', 'group', 'is refused (test)');
    const logs: LogEntry[] = [];
    const bus = busOver(
      flakyTransport(1, () => refused),
      logs,
    );
    const sub = bus.subscribe(TaskCreated, () => {}, { group: 'mailer' });
    await expect(sub.ready).rejects.toBe(refused);
    await expect(Promise.resolve(sub)).rejects.toBe(refused);
    expect(sub.state).toBe('failed');
    expect(sub.lastError).toBe(refused);
    expect(logs.some((entry) => entry.level === 'error' && /could not start/.test(entry.message))).toBe(true);
  });

  it('stops retrying when closed: ready rejects with ClosedError and nothing is registered later', async () => {
    const transport = flakyTransport(Number.POSITIVE_INFINITY, unavailable);
    const logs: LogEntry[] = [];
    const bus = busOver(transport, logs);
    const sub = bus.subscribe(TaskCreated, () => {}, { group: 'mailer' });
    await vi.waitFor(() => expect(sub.state).toBe('retrying'));
    await sub.close();
    await expect(sub.ready).rejects.toBeInstanceOf(ClosedError);
    expect(sub.state).toBe('closed');
    const calls = transport.calls;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(transport.calls).toBe(calls);
    expect(logs.filter((entry) => entry.level === 'error')).toEqual([]);
  });

  it('closes when its signal aborts', async () => {
    const bus = busOver(memoryTransport());
    const controller = new AbortController();
    const seen: string[] = [];
    const sub = await bus.subscribe(TaskCreated, (event) => seen.push(event.data.taskId), {
      signal: controller.signal,
    });
    controller.abort();
    await vi.waitFor(() => expect(sub.state).toBe('closed'));
    await bus.publish(TaskCreated, { taskId: 'after-abort' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(seen).toEqual([]);
  });
});

describe('bad input at the bus boundary', () => {
  it('refuses a malformed close() without closing, so a correct close() still works', async () => {
    const bus = busOver(memoryTransport());
    for (const options of [{ timeoutMs: '10s' }, { timeoutMs: -1 }, { timeoutMs: Number.NaN }, 'soon']) {
      const closing = bus.close(options as { timeoutMs?: number });
      await expect(closing).rejects.toBeInstanceOf(InvalidOptionError);
      await expect(closing).rejects.toThrow(/eventBus\.close\(\).*(timeoutMs|options)/);
    }
    await bus.publish(TaskCreated, { taskId: 'still-open' });
    await bus.close({ timeoutMs: 1_000 });
    await expect(bus.publish(TaskCreated, { taskId: 'x' })).rejects.toBeInstanceOf(ClosedError);
  });

  it('names a malformed type or pattern as such, and a pattern that matches nothing', () => {
    const bus = busOver(memoryTransport());
    const noop = () => {};
    const thrown = (target: string): unknown => {
      try {
        bus.subscribe(target as 'task.*', noop);
      } catch (error) {
        return error;
      }
      return undefined;
    };
    expect(thrown('')).toBeInstanceOf(InvalidOptionError);
    expect(String(thrown(''))).toMatch(/empty string/);
    expect(thrown('task..created')).toBeInstanceOf(InvalidPatternError);
    expect(String(thrown('task..created'))).toMatch(/word 2 is empty/);
    const unmatched = thrown('TASK.*');
    expect(unmatched).toBeInstanceOf(InvalidPatternError);
    expect(String(unmatched)).toMatch(/matches no event type of the catalog.*"task.created".*case-sensitive/);
  });

  it('accepts group names with letters, digits and "_.:-"', async () => {
    const bus = busOver(memoryTransport());
    const sub = await bus.subscribe(TaskCreated, () => {}, { group: 'task_manager.mail-2:v1' });
    expect(sub.group).toBe('task_manager.mail-2:v1');
  });

  it('refuses startFrom on a subscriber without a group', () => {
    const bus = busOver(memoryTransport());
    expect(() => bus.subscribe(TaskCreated, () => {}, { startFrom: 'earliest' })).toThrow(
      /startFrom.*consumer groups only/,
    );
    expect(() =>
      bus.subscribe(TaskCreated, () => {}, { group: 'g', startFrom: 'oldest' as 'earliest' }),
    ).toThrow(/startFrom.*'earliest' or 'latest'/);
  });
});

describe('declaring groups', () => {
  it('keeps events published before the first worker subscribes', async () => {
    const bus = busOver(memoryTransport());
    await bus.declareGroup('task.*', { group: 'audit' });
    await bus.publish(TaskCreated, { taskId: 'a' });
    await bus.publish(TaskDeleted, { taskId: 'a' });
    const seen: string[] = [];
    await bus.subscribe('task.*', (event) => seen.push(event.type), { group: 'audit' });
    await vi.waitFor(() => expect(seen).toEqual(['task.created', 'task.deleted']));
  });

  it('checks the target and options like subscribe', async () => {
    const bus = busOver(memoryTransport());
    await expect(bus.declareGroup(TaskCreated, { group: 'a b' })).rejects.toThrow(
      /declareGroup.*"group".*letters, digits/,
    );
    await expect(bus.declareGroup('TASK.*' as 'task.*', { group: 'g' })).rejects.toBeInstanceOf(
      InvalidPatternError,
    );
    const rejection = await bus.declareGroup(TaskCreated, null as never).catch((error: unknown) => error);
    expect(RelaybusError.is(rejection, 'INVALID_OPTION')).toBe(true);
  });
});

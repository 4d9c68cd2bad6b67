import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import {
  ClosedError,
  HandlerTimeoutError,
  InvalidOptionError,
  InvalidPatternError,
  NonRetryableError,
  UnknownEventError,
  ValidationError,
} from '../errors';
import { defineEvent } from '../events/define-event';
import type { Envelope } from '../events/envelope';
import { silentLogger } from '../logger';
import type { Middleware } from '../middleware/middleware';
import { memoryTransport } from '../transport/memory-transport';
import { createEventBus } from './create-event-bus';
import type { EventBus, EventBusOptions } from './types';

const TaskCreated = defineEvent('task.created', z.object({ taskId: z.string(), title: z.string() }), {
  key: (data) => data.taskId,
});
const TaskCompleted = defineEvent('task.completed', z.object({ taskId: z.string() }));
const TaskRenamed = defineEvent('task.renamed', z.object({ taskId: z.string(), title: z.string() }), {
  version: 2,
  upcast: { 1: (v1) => ({ taskId: (v1 as { id: string }).id, title: (v1 as { name: string }).name }) },
});
const ProjectCreated = defineEvent('project.created', z.object({ projectId: z.string() }));
const events = [TaskCreated, TaskCompleted, TaskRenamed, ProjectCreated] as const;
const fastRetry = { attempts: 3, backoff: { initialDelayMs: 1, maxDelayMs: 5 } };

const buses: Array<EventBus<(typeof events)[number]>> = [];
function makeBus(options: Omit<EventBusOptions<typeof events>, 'events'> = {}) {
  const bus = createEventBus({ events, logger: silentLogger, ...options });
  buses.push(bus);
  return bus;
}
afterEach(async () => {
  await Promise.all(buses.splice(0).map((bus) => bus.close({ timeoutMs: 1_000 })));
});

describe('publish and subscribe', () => {
  it('delivers validated, typed events with the envelope fields set', async () => {
    const bus = makeBus({ source: 'tests' });
    const seen: Envelope[] = [];
    const sub = bus.subscribe(TaskCreated, (event) => {
      seen.push(event);
    });
    await sub.ready;
    const sent = await bus.publish(
      TaskCreated,
      { taskId: 't1', title: 'Write' },
      { subject: 't1', metadata: { a: 'b' } },
    );
    await vi.waitFor(() => expect(seen).toHaveLength(1));
    expect(seen[0]).toEqual(sent);
    expect(sent).toMatchObject({
      type: 'task.created',
      source: 'tests',
      subject: 't1',
      key: 't1',
      metadata: { a: 'b' },
    });
  });

  it('hands each event to one member of a group, and to every group-less subscriber', async () => {
    const bus = makeBus();
    const counts = { a: 0, b: 0, fanOutA: 0, fanOutB: 0 };
    const count = (name: keyof typeof counts) => () => {
      counts[name] += 1;
    };
    const subs = [
      bus.subscribe(TaskCompleted, count('a'), { group: 'g', concurrency: 4 }),
      bus.subscribe(TaskCompleted, count('b'), { group: 'g', concurrency: 4 }),
      bus.subscribe(TaskCompleted, count('fanOutA')),
      bus.subscribe(TaskCompleted, count('fanOutB')),
    ];
    await Promise.all(subs.map((sub) => sub.ready));
    await Promise.all(Array.from({ length: 100 }, (_, i) => bus.publish(TaskCompleted, { taskId: `t${i}` })));
    await vi.waitFor(() => expect(counts.a + counts.b).toBe(100));
    await vi.waitFor(() => expect([counts.fanOutA, counts.fanOutB]).toEqual([100, 100]));
  });

  it('routes AMQP patterns to the matching types only', async () => {
    const bus = makeBus();
    const star: string[] = [];
    const hash: string[] = [];
    await bus.subscribe('task.*', (event) => void star.push(event.type)).ready;
    await bus.subscribe('#.created', (event) => void hash.push(event.type)).ready;
    await bus.publish(TaskCreated, { taskId: 't', title: 'x' });
    await bus.publish(ProjectCreated, { projectId: 'p' });
    await bus.publish(TaskCompleted, { taskId: 't' });
    await vi.waitFor(() => expect(star.sort()).toEqual(['task.completed', 'task.created']));
    await vi.waitFor(() => expect(hash.sort()).toEqual(['project.created', 'task.created']));
  });

  it('sets causation and carries correlation when a handler publishes', async () => {
    const bus = makeBus();
    const completed: Envelope[] = [];
    await bus.subscribe(TaskCreated, async (event, ctx) => {
      await ctx.publish(TaskCompleted, { taskId: event.data.taskId });
    }).ready;
    await bus.subscribe(TaskCompleted, (event) => void completed.push(event)).ready;
    const root = await bus.publish(TaskCreated, { taskId: 't1', title: 'x' }, { correlationId: 'req-1' });
    await vi.waitFor(() => expect(completed).toHaveLength(1));
    expect(completed[0]).toMatchObject({ causationId: root.id, correlationId: 'req-1' });
    const second = await bus.publish(TaskCreated, { taskId: 't2', title: 'y' });
    await vi.waitFor(() => expect(completed).toHaveLength(2));
    expect(completed[1]).toMatchObject({ causationId: second.id, correlationId: second.id });
  });
});

describe('bad input gets typed errors naming what is wrong', () => {
  it('refuses invalid payloads, unknown types and bad publish options', async () => {
    const bus = makeBus();
    await expect(bus.publish(TaskCreated, { taskId: 1 } as never)).rejects.toBeInstanceOf(ValidationError);
    const Stranger = defineEvent('stranger.event', z.object({}));
    await expect(bus.publish(Stranger as never, {} as never)).rejects.toBeInstanceOf(UnknownEventError);
    await expect(bus.publish(TaskCompleted, { taskId: 't' }, { delayMs: -1 })).rejects.toThrow(/delayMs/);
  });

  it('refuses malformed subscriptions up front', () => {
    const bus = makeBus();
    const noop = () => {};
    expect(() => bus.subscribe(TaskCreated, noop, { concurrency: 0 })).toThrow(InvalidOptionError);
    expect(() => bus.subscribe(TaskCreated, noop, { concurrency: 0 })).toThrow(
      /"concurrency" must be an integer >= 1/,
    );
    expect(() => bus.subscribe(TaskCreated, noop, { timeoutMs: 1_000, visibilityTimeoutMs: 500 })).toThrow(
      /visibilityTimeoutMs.*must be greater than timeoutMs/,
    );
    expect(() => bus.subscribe(TaskCreated, noop, { retry: { attempts: 0 } })).toThrow(/retry\.attempts/);
    // @ts-expect-error -- a malformed pattern matches nothing: refused at compile time as well as at run time
    expect(() => bus.subscribe('task.*x', noop)).toThrow(InvalidPatternError);
    // @ts-expect-error -- a type outside the catalog: refused at compile time as well as at run time
    expect(() => bus.subscribe('nope.never', noop)).toThrow(UnknownEventError);
    expect(() => bus.subscribe(TaskCreated, 'not a function' as never)).toThrow(/handler/);
    expect(() =>
      createEventBus({ events: [TaskCreated, defineEvent('task.created', z.object({}))] }),
    ).toThrow(/second time/);
  });

  it('refuses work after close', async () => {
    const bus = makeBus();
    await bus.close();
    await expect(bus.publish(TaskCompleted, { taskId: 't' })).rejects.toBeInstanceOf(ClosedError);
    expect(() => bus.subscribe(TaskCompleted, () => {})).toThrow(ClosedError);
  });
});

describe('retry and dead letters', () => {
  it('retries a failing handler with backoff until it succeeds', async () => {
    const bus = makeBus();
    const attempts: number[] = [];
    await bus.subscribe(
      TaskCompleted,
      (_event, ctx) => {
        attempts.push(ctx.attempt);
        if (ctx.attempt < 3) throw new Error('flaky');
      },
      { group: 'g', retry: fastRetry },
    ).ready;
    await bus.publish(TaskCompleted, { taskId: 't' });
    await vi.waitFor(() => expect(attempts).toEqual([1, 2, 3]));
    expect(await bus.deadLetters.list()).toEqual([]);
  });

  it('dead-letters after the last attempt with error, attempts and timestamps, and redrives', async () => {
    const bus = makeBus();
    let healthy = false;
    const handled: string[] = [];
    await bus.subscribe(
      TaskCompleted,
      (event) => {
        if (!healthy) throw 'a plain string';
        handled.push(event.data.taskId);
      },
      { group: 'g', retry: { ...fastRetry, attempts: 2 } },
    ).ready;
    const sent = await bus.publish(TaskCompleted, { taskId: 't9' });
    await vi.waitFor(async () => expect(await bus.deadLetters.list()).toHaveLength(1));
    const [letter] = await bus.deadLetters.list();
    expect(letter).toMatchObject({
      reason: 'MAX_ATTEMPTS',
      attempts: 2,
      group: 'g',
      message: { id: sent.id },
    });
    expect(letter?.error).toMatchObject({ name: 'HandlerError', code: 'HANDLER_FAILED' });
    expect(letter?.error.message).toContain('a plain string');
    expect(Date.parse(letter?.deadLetteredAt ?? '')).toBeGreaterThanOrEqual(
      Date.parse(letter?.firstAttemptAt ?? ''),
    );
    healthy = true;
    expect(await bus.deadLetters.redrive()).toBe(1);
    await vi.waitFor(() => expect(handled).toEqual(['t9']));
    expect(await bus.deadLetters.list()).toEqual([]);
  });

  it('dead-letters at once on NonRetryableError', async () => {
    const bus = makeBus();
    let calls = 0;
    await bus.subscribe(
      TaskCompleted,
      () => {
        calls += 1;
        throw new NonRetryableError('never works');
      },
      { group: 'g', retry: fastRetry },
    ).ready;
    await bus.publish(TaskCompleted, { taskId: 't' });
    await vi.waitFor(async () => expect(await bus.deadLetters.list()).toHaveLength(1));
    expect(calls).toBe(1);
    expect((await bus.deadLetters.list())[0]).toMatchObject({
      reason: 'NON_RETRYABLE',
      error: { name: 'NonRetryableError' },
    });
  });

  it('times out a handler that never settles, aborting its signal', async () => {
    const bus = makeBus();
    const reasons: unknown[] = [];
    await bus.subscribe(
      TaskCompleted,
      (_event, ctx) =>
        new Promise<void>(() => {
          ctx.signal.addEventListener('abort', () => reasons.push(ctx.signal.reason));
        }),
      { group: 'g', timeoutMs: 40, retry: { attempts: 2, backoff: { initialDelayMs: 1 } } },
    ).ready;
    await bus.publish(TaskCompleted, { taskId: 't' });
    await vi.waitFor(async () => expect(await bus.deadLetters.list()).toHaveLength(1));
    expect(reasons).toHaveLength(2);
    expect(reasons[0]).toBeInstanceOf(HandlerTimeoutError);
    expect((await bus.deadLetters.list())[0]?.error.code).toBe('HANDLER_TIMEOUT');
  });
});

describe('consume-side validation', () => {
  it('dead-letters undecodable, unknown and invalid messages and keeps running', async () => {
    const transport = memoryTransport();
    const bus = makeBus({ transport });
    const handled: string[] = [];
    await bus.subscribe('task.#', (event) => void handled.push(event.id), { group: 'g' }).ready;
    const valid = TaskCompleted.create({ taskId: 'ok' });
    await transport.publish([
      { id: 'm1', topic: 'task.completed', body: '{broken json' },
      { id: 'm2', topic: 'task.unknown', body: { ...valid, id: 'm2', type: 'task.unknown' } },
      { id: 'm3', topic: 'task.completed', body: { ...valid, id: 'm3', data: { taskId: 42 } } },
      { id: valid.id, topic: 'task.completed', body: valid },
    ]);
    await vi.waitFor(() => expect(handled).toEqual([valid.id]));
    await vi.waitFor(async () => expect(await bus.deadLetters.list()).toHaveLength(3));
    const reasons = Object.fromEntries((await bus.deadLetters.list()).map((l) => [l.message.id, l.reason]));
    expect(reasons).toEqual({ m1: 'INVALID_ENVELOPE', m2: 'UNKNOWN_EVENT', m3: 'VALIDATION_FAILED' });
  });

  it('upcasts older versions before validating', async () => {
    const transport = memoryTransport();
    const bus = makeBus({ transport });
    const seen: Envelope[] = [];
    await bus.subscribe(TaskRenamed, (event) => void seen.push(event)).ready;
    const current = TaskRenamed.create({ taskId: 't', title: 'New' });
    const v1 = { ...current, version: 1, data: { id: 't', name: 'Old' } };
    await transport.publish([{ id: v1.id, topic: v1.type, body: v1 }]);
    await vi.waitFor(() => expect(seen).toHaveLength(1));
    expect(seen[0]).toMatchObject({ version: 2, data: { taskId: 't', title: 'Old' } });
  });
});

describe('middleware', () => {
  it('runs in onion order on both sides and may replace the envelope', async () => {
    const bus = makeBus();
    const order: string[] = [];
    const layer = (name: string): Middleware => ({
      name,
      publish: async (ctx, next) => {
        order.push(`${name}:publish:in`);
        ctx.envelope = { ...ctx.envelope, metadata: { ...ctx.envelope.metadata, [name]: 'yes' } };
        await next();
        order.push(`${name}:publish:out`);
      },
      consume: async (_ctx, next) => {
        order.push(`${name}:consume:in`);
        await next();
        order.push(`${name}:consume:out`);
      },
    });
    bus.use(layer('outer')).use(layer('inner'));
    const seen: Envelope[] = [];
    await bus.subscribe(TaskCompleted, (event) => {
      order.push('handler');
      seen.push(event);
    }).ready;
    const published = await bus.publish(TaskCompleted, { taskId: 't' });
    await vi.waitFor(() => expect(seen).toHaveLength(1));
    await vi.waitFor(() => expect(order).toContain('outer:consume:out'));
    expect(order.filter((step) => step.includes(':publish:'))).toEqual([
      'outer:publish:in',
      'inner:publish:in',
      'inner:publish:out',
      'outer:publish:out',
    ]);
    expect(order.filter((step) => !step.includes(':publish:'))).toEqual([
      'outer:consume:in',
      'inner:consume:in',
      'handler',
      'inner:consume:out',
      'outer:consume:out',
    ]);
    expect(published.metadata).toEqual({ outer: 'yes', inner: 'yes' });
    expect(seen[0]?.metadata).toEqual({ outer: 'yes', inner: 'yes' });
  });
});

describe('close', () => {
  it('waits for running handlers, then aborts the ones that outlive the timeout', async () => {
    const bus = makeBus();
    let finished = 0;
    let aborted = 0;
    await bus.subscribe(
      TaskCompleted,
      async (event, ctx) => {
        if (event.data.taskId === 'stuck') {
          await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
          aborted += 1;
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 30));
        finished += 1;
      },
      { concurrency: 2 },
    ).ready;
    await bus.publish(TaskCompleted, { taskId: 'slow' });
    await bus.publish(TaskCompleted, { taskId: 'stuck' });
    await new Promise((resolve) => setTimeout(resolve, 5));
    await bus.close({ timeoutMs: 200 });
    expect(finished).toBe(1);
    await vi.waitFor(() => expect(aborted).toBe(1));
  });

  it('closes a subscription when its signal aborts', async () => {
    const bus = makeBus();
    const controller = new AbortController();
    const seen: string[] = [];
    await bus.subscribe(TaskCompleted, (event) => void seen.push(event.data.taskId), {
      signal: controller.signal,
    }).ready;
    await bus.publish(TaskCompleted, { taskId: 'a' });
    await vi.waitFor(() => expect(seen).toEqual(['a']));
    controller.abort();
    await new Promise((resolve) => setTimeout(resolve, 10));
    await bus.publish(TaskCompleted, { taskId: 'b' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(seen).toEqual(['a']);
  });
});

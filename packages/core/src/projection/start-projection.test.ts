import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { CheckpointConflictError, ClosedError, InvalidOptionError, ProjectionError } from '../errors';
import { defineEvent } from '../events/define-event';
import { silentLogger } from '../logger';
import type { EventStore } from '../store/event-store';
import { memoryEventStore } from '../store/memory-event-store';
import type { CheckpointStore } from './checkpoint-store';
import { defineProjection, type ProjectionContext } from './define-projection';
import { memoryCheckpointStore } from './memory-checkpoint-store';
import { memoryReadModel } from './memory-read-model';
import { type ProjectionHandle, startProjection } from './start-projection';
import type { StartProjectionOptions } from './start-projection-options';

const TaskCreated = defineEvent('task.created', z.object({ taskId: z.string(), title: z.string() }));
const TaskRenamed = defineEvent('task.renamed', z.object({ taskId: z.string(), title: z.string() }), {
  version: 2,
  upcast: { 1: (v1) => ({ taskId: (v1 as { id: string }).id, title: (v1 as { name: string }).name }) },
});
const ProjectCreated = defineEvent('project.created', z.object({ projectId: z.string() }));
type Titles = Map<string, string>;

const titles = defineProjection({
  name: 'titles',
  events: [TaskCreated, TaskRenamed],
  handlers: {
    'task.created': (event, { model }: ProjectionContext<Titles>) =>
      void model.set(event.data.taskId, event.data.title),
    'task.renamed': (event, { model }) => void model.set(event.data.taskId, event.data.title),
  },
});

const open: ProjectionHandle[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((handle) => handle.close()));
});

function setup(checkpoints: CheckpointStore = memoryCheckpointStore()) {
  const store = memoryEventStore();
  const model = memoryReadModel((): Titles => new Map());
  const errors: Error[] = [];
  const start = (options: Partial<StartProjectionOptions<Titles>> = {}, projection = titles) => {
    const handle = startProjection(projection, {
      store,
      checkpoints,
      model,
      logger: silentLogger,
      onError: (error) => errors.push(error),
      ...options,
    });
    open.push(handle);
    return handle;
  };
  const create = (taskId: string, title = `task ${taskId}`) =>
    store.append(`task-${taskId}`, [TaskCreated.create({ taskId, title })]);
  return { store, model, checkpoints, errors, start, create };
}

describe('startProjection', () => {
  it('applies history then new events to the live model and saves the checkpoint', async () => {
    const { model, checkpoints, start, create, store } = setup();
    await create('1');
    await store.append('project-1', [ProjectCreated.create({ projectId: 'p1' })]);
    const projection = start();
    await projection.caughtUp();
    expect([...model.current()]).toEqual([['1', 'task 1']]);
    expect(projection.position()).toBe(await store.headPosition());
    await create('2');
    await projection.caughtUp();
    expect(model.current().get('2')).toBe('task 2');
    expect(await checkpoints.load('titles@v1')).toBe(await store.headPosition());
  });

  it('resumes from its checkpoint without applying events twice', async () => {
    const { start, create, checkpoints } = setup();
    const calls: string[] = [];
    const counting = defineProjection({
      name: 'counting',
      events: [TaskCreated],
      handlers: { 'task.created': (event) => void calls.push(event.data.taskId) },
    });
    await create('1');
    const first = start({}, counting as never);
    await first.caughtUp();
    await first.close();
    await create('2');
    const second = start({}, counting as never);
    await second.caughtUp();
    expect(calls).toEqual(['1', '2']);
    expect(await checkpoints.load('counting@v1')).toBe(second.position());
  });

  it('upcasts and validates stored events before handing them over', async () => {
    const { store, model, start, create } = setup();
    await create('1', 'old');
    await store.append('task-1', [
      { ...TaskRenamed.create({ taskId: '1', title: 'x' }), version: 1, data: { id: '1', name: 'new' } },
    ]);
    await start().caughtUp();
    expect(model.current().get('1')).toBe('new');
  });

  it('catches up past events of other types that end the log', async () => {
    const { store, start, create } = setup();
    await create('1');
    const projection = start({ batchSize: 1 });
    await projection.caughtUp();
    for (let i = 0; i < 5; i++)
      await store.append(`project-${i}`, [ProjectCreated.create({ projectId: `${i}` })]);
    await projection.caughtUp();
    expect(projection.position()).toBe(await store.headPosition());
  });

  it('stops on a failing handler without skipping the event, and resumes there after a restart', async () => {
    const { start, create, errors, checkpoints, model } = setup();
    let broken = true;
    const fragile = defineProjection({
      name: 'fragile',
      events: [TaskCreated],
      handlers: {
        'task.created': (event, { model }: ProjectionContext<Titles>) => {
          if (broken && event.data.taskId === '3') throw new Error('boom');
          model.set(event.data.taskId, event.data.title);
        },
      },
    });
    await create('1');
    const first = start({ checkpointEveryEvents: Number.POSITIVE_INFINITY }, fragile as never);
    await first.caughtUp();
    await create('2');
    await create('3');
    await create('4');
    const failure = await first.caughtUp().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ProjectionError);
    expect(failure).toMatchObject({
      code: 'PROJECTION_FAILED',
      projection: 'fragile',
      eventType: 'task.created',
      stream: 'task-3',
      streamVersion: 1,
      position: '0000000000000003',
    });
    expect((failure as Error).cause).toEqual(new Error('boom'));
    expect(errors).toEqual([failure]);
    expect(first.position()).toBe('0000000000000002');
    expect(await checkpoints.load('fragile@v1')).toBe('0000000000000002');
    await expect(first.rebuild()).rejects.toBe(failure);
    await first.close();

    broken = false;
    const second = start({}, fragile as never);
    await second.caughtUp();
    expect([...model.current().keys()]).toEqual(['1', '2', '3', '4']);
  });

  it('stops when the first build fails, leaving the live model and checkpoint untouched', async () => {
    const { start, create, errors, checkpoints, model } = setup();
    const live = model.current();
    const broken = defineProjection({
      name: 'broken',
      events: [TaskCreated],
      handlers: { 'task.created': () => Promise.reject('not an error') },
    });
    await create('1');
    const projection = start({}, broken as never);
    await expect(projection.caughtUp()).rejects.toBeInstanceOf(ProjectionError);
    expect(errors[0]?.message).toContain('not an error');
    expect(model.current()).toBe(live);
    expect(projection.position()).toBeUndefined();
    expect(await checkpoints.load('broken@v1')).toBeUndefined();
  });

  it('reports events it cannot decode as a ProjectionError naming the stream', async () => {
    const { store, start, errors } = setup();
    const projection = start();
    await projection.caughtUp();
    await store.append('task-9', [
      { ...TaskCreated.create({ taskId: '9', title: 't' }), data: { taskId: 9 } },
    ]);
    await expect(projection.caughtUp()).rejects.toBeInstanceOf(ProjectionError);
    expect(errors[0]?.cause).toMatchObject({ code: 'INVALID_ENVELOPE' });
    expect(errors[0]?.message).toContain('stream "task-9" version 1');
  });

  it('saves the checkpoint every N events and when caught up', async () => {
    const saves: string[] = [];
    const inner = memoryCheckpointStore();
    const { start, create } = setup({
      ...inner,
      save: (name, position, expected) => {
        saves.push(position);
        return inner.save(name, position, expected);
      },
    });
    const projection = start({ checkpointEveryEvents: 3, batchSize: 100 });
    await projection.caughtUp();
    for (let i = 1; i <= 7; i++) await create(`${i}`);
    await projection.caughtUp();
    expect(saves).toEqual(['0000000000000003', '0000000000000006', '0000000000000007']);
  });

  it('saves the checkpoint when the interval has passed', async () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    try {
      const saves: string[] = [];
      const inner = memoryCheckpointStore();
      const { start, store } = setup({
        ...inner,
        save: (name, position, expected) => {
          saves.push(position);
          return inner.save(name, position, expected);
        },
      });
      const slow = defineProjection({
        name: 'slow',
        events: [TaskCreated],
        handlers: { 'task.created': () => void vi.advanceTimersByTime(40) },
      });
      const options = { checkpointEveryEvents: Number.POSITIVE_INFINITY, checkpointIntervalMs: 100 };
      const projection = start(options, slow as never);
      await projection.caughtUp();
      for (let i = 1; i <= 5; i++) {
        await store.append(`t-${i}`, [TaskCreated.create({ taskId: `${i}`, title: 't' })]);
      }
      await projection.caughtUp();
      expect(saves).toEqual(['0000000000000003', '0000000000000005']);
    } finally {
      vi.useRealTimers();
    }
  });

  it('stops with CheckpointConflictError when another instance moved the checkpoint', async () => {
    const { start, create, errors, checkpoints } = setup();
    await create('1');
    const projection = start();
    await projection.caughtUp();
    await checkpoints.save('titles@v1', '0000000000000009');
    await create('2');
    await expect(projection.caughtUp()).rejects.toBeInstanceOf(CheckpointConflictError);
    expect(errors[0]).toBeInstanceOf(CheckpointConflictError);
  });

  it('closes on close(), on its signal and on asyncDispose, saving the checkpoint', async () => {
    const { start, create, checkpoints } = setup();
    await create('1');
    const controller = new AbortController();
    const projection = start({ signal: controller.signal, checkpointEveryEvents: Number.POSITIVE_INFINITY });
    await projection.caughtUp();
    controller.abort();
    await projection.close();
    expect(await checkpoints.load('titles@v1')).toBe('0000000000000001');
    await expect(projection.caughtUp()).rejects.toBeInstanceOf(ClosedError);
    await expect(projection.rebuild()).rejects.toBeInstanceOf(ClosedError);
    const other = start();
    await other[Symbol.asyncDispose]();
    await expect(other.caughtUp()).rejects.toBeInstanceOf(ClosedError);
  });

  it('validates its options at the boundary', () => {
    const store: EventStore = memoryEventStore();
    const checkpoints = memoryCheckpointStore();
    const model = memoryReadModel((): Titles => new Map());
    const attempt = (options: object) => () =>
      startProjection(titles, { store, checkpoints, model, ...options });
    expect(attempt({ batchSize: 0 })).toThrow(expect.objectContaining({ option: 'batchSize' }));
    expect(attempt({ checkpointEveryEvents: 0 })).toThrow(
      expect.objectContaining({ option: 'checkpointEveryEvents' }),
    );
    expect(attempt({ checkpointIntervalMs: -1 })).toThrow(
      expect.objectContaining({ option: 'checkpointIntervalMs' }),
    );
    expect(attempt({ model: {} })).toThrow(InvalidOptionError);
    expect(attempt({ store: undefined })).toThrow(expect.objectContaining({ option: 'store' }));
    expect(attempt({ checkpoints: null })).toThrow(expect.objectContaining({ option: 'checkpoints' }));
  });
});

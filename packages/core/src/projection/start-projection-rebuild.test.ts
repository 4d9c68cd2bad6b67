import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { ClosedError, ProjectionError } from '../errors';
import { defineEvent } from '../events/define-event';
import { silentLogger } from '../logger';
import { memoryEventStore } from '../store/memory-event-store';
import { waitFor } from '../testing/wait-for';
import { defineProjection, type ProjectionContext } from './define-projection';
import { memoryCheckpointStore } from './memory-checkpoint-store';
import { memoryReadModel } from './memory-read-model';
import { type ProjectionHandle, startProjection } from './start-projection';

const TaskCreated = defineEvent('task.created', z.object({ taskId: z.string(), title: z.string() }));
type Titles = Map<string, string>;

interface Call {
  taskId: string;
  rebuilding: boolean;
}

/** A projection whose handler can be held on one task id, in the live run or in rebuilds. */
function gatedProjection(version = 1, transform = (title: string) => title) {
  const calls: Call[] = [];
  const gate = { taskId: '', rebuilding: false, held: false, release: () => {} };
  const projection = defineProjection({
    name: 'titles',
    version,
    events: [TaskCreated],
    handlers: {
      'task.created': async (event, ctx: ProjectionContext<Titles>) => {
        calls.push({ taskId: event.data.taskId, rebuilding: ctx.rebuilding });
        if (event.data.taskId === gate.taskId && ctx.rebuilding === gate.rebuilding) {
          gate.held = true;
          await new Promise<void>((resolve) => {
            gate.release = resolve;
          });
          gate.held = false;
        }
        ctx.model.set(event.data.taskId, transform(event.data.title));
      },
    },
  });
  const hold = (taskId: string, rebuilding: boolean) => Object.assign(gate, { taskId, rebuilding });
  return { projection, calls, gate, hold };
}

const open: ProjectionHandle[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((handle) => handle.close()));
});

function setup() {
  const store = memoryEventStore();
  const checkpoints = memoryCheckpointStore();
  const model = memoryReadModel((): Titles => new Map());
  const abortRebuild = vi.spyOn(model, 'abortRebuild');
  const errors: Error[] = [];
  const start = (projection: ReturnType<typeof gatedProjection>['projection']) => {
    const handle = startProjection(projection, {
      store,
      checkpoints,
      model,
      logger: silentLogger,
      onError: (error) => errors.push(error),
    });
    open.push(handle);
    return handle;
  };
  const create = (taskId: string) =>
    store.append(`task-${taskId}`, [TaskCreated.create({ taskId, title: `t${taskId}` })]);
  return { store, checkpoints, model, abortRebuild, errors, start, create };
}

describe('projection rebuilds', () => {
  it('builds aside while the live model keeps being updated, then swaps model and checkpoint', async () => {
    const { store, checkpoints, model, start, create } = setup();
    const { projection, gate, hold } = gatedProjection();
    await create('1');
    await create('2');
    const handle = start(projection);
    await handle.caughtUp();
    const before = model.current();

    hold('1', true);
    const rebuilt = handle.rebuild();
    await waitFor(() => gate.held, { message: 'the rebuild to reach task 1' });
    await create('3');
    await handle.caughtUp();
    expect(model.current()).toBe(before);
    expect([...before.keys()]).toEqual(['1', '2', '3']);

    gate.release();
    await rebuilt;
    const after = model.current();
    expect(after).not.toBe(before);
    expect([...after.keys()]).toEqual(['1', '2', '3']);
    expect(handle.position()).toBe(await store.headPosition());
    expect(await checkpoints.load('titles@v1')).toBe(handle.position());

    await create('4');
    await handle.caughtUp();
    expect(after.get('4')).toBe('t4');
    expect(before.has('4')).toBe(false);
  });

  it('pauses the live run for the tail of the rebuild, so no event is missed or applied twice', async () => {
    const { model, start, create } = setup();
    const { projection, gate, hold, calls } = gatedProjection();
    await create('1');
    const handle = start(projection);
    await handle.caughtUp();

    hold('5', false);
    await create('5');
    await waitFor(() => gate.held, { message: 'the live run to hold task 5' });
    const rebuilt = handle.rebuild();
    await waitFor(() => calls.some((c) => c.taskId === '5' && c.rebuilding), {
      message: 'the rebuild to apply task 5',
    });
    await create('6');
    gate.release();
    await rebuilt;
    expect([...model.current().keys()]).toEqual(['1', '5', '6']);
    await create('7');
    await handle.caughtUp();
    expect(calls.filter((c) => !c.rebuilding).map((c) => c.taskId)).toEqual(['5', '7']);
    expect(calls.filter((c) => c.rebuilding).map((c) => c.taskId)).toEqual(['1', '1', '5', '6']);
  });

  it('shares one rebuild between concurrent calls', async () => {
    const { start, create } = setup();
    const { projection, calls } = gatedProjection();
    await create('1');
    const handle = start(projection);
    await handle.caughtUp();
    const [a, b] = [handle.rebuild(), handle.rebuild()];
    expect(a).toBe(b);
    await a;
    expect(calls.filter((c) => c.rebuilding)).toHaveLength(2);
  });

  it('rejects a failed rebuild, discards the aside model and keeps the live one running', async () => {
    const { model, abortRebuild, errors, start, create } = setup();
    const broken = defineProjection({
      name: 'titles',
      events: [TaskCreated],
      handlers: {
        'task.created': (event, ctx: ProjectionContext<Titles>) => {
          if (ctx.rebuilding && event.data.taskId === '2') throw new Error('cannot rebuild');
          ctx.model.set(event.data.taskId, event.data.title);
        },
      },
    });
    await create('1');
    const handle = start(broken as never);
    await handle.caughtUp();
    await create('2');
    await handle.caughtUp();
    const live = model.current();
    await expect(handle.rebuild()).rejects.toBeInstanceOf(ProjectionError);
    expect(abortRebuild).toHaveBeenCalledTimes(1);
    expect(abortRebuild.mock.calls[0]?.[0]).not.toBe(live);
    expect(model.current()).toBe(live);
    expect(errors).toEqual([]);
    await create('3');
    await handle.caughtUp();
    expect([...live.keys()]).toEqual(['1', '2', '3']);
  });

  it('rebuilds from zero aside when the version changes, keeping the old model readable meanwhile', async () => {
    const { checkpoints, model, start, create } = setup();
    await create('1');
    await create('2');
    const v1 = start(gatedProjection(1).projection);
    await v1.caughtUp();
    await v1.close();
    const old = model.current();

    const v2 = gatedProjection(2, (title) => title.toUpperCase());
    v2.hold('2', true);
    const handle = start(v2.projection);
    await waitFor(() => v2.gate.held, { message: 'the version 2 build to reach task 2' });
    expect(model.current()).toBe(old);
    expect([...old.values()]).toEqual(['t1', 't2']);
    v2.gate.release();
    await handle.caughtUp();
    expect([...model.current().values()]).toEqual(['T1', 'T2']);
    expect(await checkpoints.load('titles@v2')).toBe('0000000000000002');
    expect(handle.name).toBe('titles@v2');
  });

  it('abandons a rebuild when the projection closes', async () => {
    const { model, abortRebuild, start, create } = setup();
    const { projection, gate, hold } = gatedProjection();
    await create('1');
    const handle = start(projection);
    await handle.caughtUp();
    const live = model.current();
    hold('1', true);
    const rebuilt = handle.rebuild();
    await waitFor(() => gate.held, { message: 'the rebuild to reach task 1' });
    const closed = handle.close();
    gate.release();
    await closed;
    await expect(rebuilt).rejects.toBeInstanceOf(ClosedError);
    expect(abortRebuild).toHaveBeenCalledTimes(1);
    expect(model.current()).toBe(live);
  });
});

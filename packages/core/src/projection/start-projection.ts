import { ClosedError, ProjectionError } from '../errors';
import type { AnyEventDefinition } from '../events/define-event';
import { consoleLogger } from '../logger';
import { batchSizeOf } from '../store/read-helpers';
import { eventCatalog } from './decode-stored-event';
import type { ProjectionDefinition } from './define-projection';
import { applyPage, type Cursor, createLock, deferred, type PageReader } from './projection-runner';
import { checkStartProjectionOptions, type StartProjectionOptions } from './start-projection-options';

/**
 * A running projection, returned by {@link startProjection}.
 *
 * @example
 * ```ts
 * await using projection = startProjection(taskBoard, { store, checkpoints, model });
 * await projection.caughtUp();
 * ```
 */
export interface ProjectionHandle extends AsyncDisposable {
  /** The checkpoint name, `${name}@v${version}`. */
  readonly name: string;
  /** Position of the last event applied to the live model (or past skipped ones); `undefined` before any. */
  position(): string | undefined;
  /**
   * Resolves once every event that existed at call time is in the live model.
   * @throws the projection's error when it stopped, `ClosedError` when it was closed.
   */
  caughtUp(): Promise<void>;
  /**
   * Rebuilds the model from zero aside while the live model keeps being updated; then pauses the live run, lets
   * the rebuild reach the head, and swaps model and checkpoint together. Concurrent calls share one rebuild.
   * @throws the rebuild's error (the live model is left untouched), `ClosedError` when the projection closes.
   */
  rebuild(): Promise<void>;
  /** Stops reading, lets the running handler finish, saves the checkpoint. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts a projection: a catch-up subscription to the projection's event types from its checkpoint, applying
 * handlers in order to the live read model and saving the checkpoint as it goes (at-least-once after a crash:
 * events after the last save are applied again). With no checkpoint for this `version` (first start, or the
 * version was bumped), it first builds the model from zero aside and swaps it in, so readers never see it
 * half-built. A failing handler stops the projection with a {@link ProjectionError} passed to `onError`.
 *
 * @throws {@link InvalidOptionError} for a missing store, checkpoint store or model, or bad numbers.
 * @example
 * ```ts
 * const board = memoryReadModel(() => new Map<string, Task>());
 * const projection = startProjection(taskBoard, { store, checkpoints: memoryCheckpointStore(), model: board });
 * await projection.caughtUp();
 * console.log(board.current().size);
 * ```
 */
export function startProjection<TEvents extends AnyEventDefinition, TModel>(
  projection: ProjectionDefinition<TEvents, TModel>,
  options: StartProjectionOptions<NoInfer<TModel>>,
): ProjectionHandle {
  const name = projection?.checkpointName;
  const where = `startProjection("${String(name)}")`;
  checkStartProjectionOptions(where, projection, options);
  const { store, checkpoints, model, logger = consoleLogger } = options;
  const batchSize = batchSizeOf(where, options.batchSize);
  const everyEvents = options.checkpointEveryEvents ?? batchSize;
  const intervalMs = options.checkpointIntervalMs;
  const onError = options.onError ?? ((error) => logger.error(`projection "${name}" stopped`, { error }));
  const controller = new AbortController();
  const { signal } = controller;
  const reader: PageReader<TModel> = {
    projection: projection as unknown as ProjectionDefinition<AnyEventDefinition, TModel>,
    store,
    catalog: eventCatalog(where, projection.events),
    batchSize,
    signal,
  };
  const lock = createLock();
  const started = deferred<void>();
  const live: Cursor = { position: undefined };
  let saved: string | undefined;
  let sinceSave = 0;
  let savedAt = performance.now();
  let stepsStarted = 0;
  let lastIdleStep = 0;
  let failure: Error | undefined;
  let closing: Promise<void> | undefined;
  let rebuilding: Promise<void> | undefined;
  const waiters = new Set<Waiter>();

  async function saveLive(): Promise<void> {
    const position = live.position;
    if (position === undefined || position === saved) return;
    await checkpoints.save(name, position, saved);
    saved = position;
    sinceSave = 0;
    savedAt = performance.now();
  }

  function afterLiveEvent(): Promise<void> | undefined {
    sinceSave += 1;
    const due =
      sinceSave >= everyEvents || (intervalMs !== undefined && performance.now() - savedAt >= intervalMs);
    return due ? saveLive() : undefined;
  }

  const reached = (waiter: Waiter): boolean =>
    waiter.head === undefined || (live.position ?? '') >= waiter.head || lastIdleStep > waiter.mark;

  function settleWaiters(): void {
    for (const waiter of waiters) {
      if (reached(waiter)) {
        waiters.delete(waiter);
        waiter.resolve();
      }
    }
  }

  function stop(error: Error): void {
    started.reject(error);
    for (const waiter of waiters) waiter.reject(error);
    waiters.clear();
  }

  function fail(thrown: unknown): void {
    if (failure !== undefined || closing !== undefined) return;
    failure = thrown instanceof Error ? thrown : new Error(String(thrown));
    controller.abort(failure);
    stop(failure);
    try {
      onError(failure);
    } catch (error) {
      logger.error(`onError of projection "${name}" threw`, { error });
    }
  }

  async function liveStep(): Promise<boolean> {
    const step = ++stepsStarted;
    try {
      const idle = await applyPage(reader, live, model.live, false, afterLiveEvent);
      if (idle) lastIdleStep = step;
      // Whoever waits for the projection to catch up also gets a saved checkpoint.
      if (idle || [...waiters].some(reached)) await saveLive();
      settleWaiters();
      return idle;
    } catch (error) {
      // Keep the progress made before the failed event, so a restart resumes exactly there.
      if (error instanceof ProjectionError) await saveLive().catch(() => {});
      throw error;
    }
  }

  async function rebuildAside(): Promise<void> {
    const aside = await model.beginRebuild();
    const cursor: Cursor = { position: undefined };
    let committed = false;
    try {
      while (!(await applyPage(reader, cursor, aside, true))) signal.throwIfAborted();
      await lock.run(async () => {
        while (!(await applyPage(reader, cursor, aside, true))) signal.throwIfAborted();
        signal.throwIfAborted();
        await model.commitRebuild(aside);
        committed = true;
        live.position = cursor.position;
        sinceSave = 0;
        await saveLive();
        settleWaiters();
      });
      logger.info(`projection "${name}" rebuilt`, { position: cursor.position });
    } catch (error) {
      if (committed) fail(error);
      else await discard(aside);
      throw error;
    }
  }

  async function discard(aside: TModel): Promise<void> {
    try {
      await model.abortRebuild?.(aside);
    } catch (error) {
      logger.warn(`abortRebuild of projection "${name}" threw`, { error });
    }
  }

  async function run(): Promise<void> {
    const stored = await checkpoints.load(name);
    if (stored === undefined) {
      await rebuildAside();
    } else {
      live.position = stored;
      saved = stored;
    }
    started.resolve();
    settleWaiters();
    while (!signal.aborted) {
      const idle = await lock.run(liveStep);
      if (!idle || signal.aborted) continue;
      try {
        await store.waitForEvents(live.position, signal);
      } catch (error) {
        if (!signal.aborted) throw error;
      }
    }
  }

  const main = run().catch((error: unknown) => {
    if (!signal.aborted) fail(error);
  });

  function close(): Promise<void> {
    closing ??= (async () => {
      options.signal?.removeEventListener('abort', onAbort);
      const closed = new ClosedError(`projection "${name}"`, 'wait for it');
      controller.abort(closed);
      stop(closed);
      await main;
      await rebuilding?.catch(() => {});
      if (failure === undefined) {
        await lock.run(saveLive).catch((error: unknown) => {
          logger.warn(`projection "${name}" could not save its checkpoint on close`, { error });
        });
      }
    })();
    return closing;
  }
  const onAbort = (): void => void close();
  if (options.signal?.aborted === true) void close();
  else options.signal?.addEventListener('abort', onAbort, { once: true });

  const unavailable = (): Error | undefined =>
    failure ?? (closing === undefined ? undefined : new ClosedError(`projection "${name}"`, 'use it'));

  return {
    name,
    position: () => live.position,
    async caughtUp() {
      await started.promise;
      const head = await store.headPosition();
      const mark = stepsStarted;
      return new Promise<void>((resolve, reject) => {
        const error = unavailable();
        if (error !== undefined) return reject(error);
        waiters.add({ head, mark, resolve, reject });
        settleWaiters();
      });
    },
    rebuild() {
      const error = unavailable();
      if (error !== undefined) return Promise.reject(error);
      rebuilding ??= started.promise.then(rebuildAside).finally(() => {
        rebuilding = undefined;
      });
      return rebuilding;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** A `caughtUp()` call: the head when it was made, and the step count then. */
interface Waiter {
  readonly head: string | undefined;
  readonly mark: number;
  resolve(): void;
  reject(reason: unknown): void;
}

import type { ReadModel } from './read-model';

/**
 * An in-memory {@link ReadModel} that readers consult through `current()`.
 *
 * @example
 * ```ts
 * const model: MemoryReadModel<Map<string, Task>> = memoryReadModel(() => new Map());
 * model.current().get('t1');
 * ```
 */
export interface MemoryReadModel<TModel> extends ReadModel<TModel> {
  /** The complete model to read from: the live one, never one that a rebuild is still filling. */
  current(): TModel;
}

/**
 * Creates an in-memory read model. A rebuild fills a new instance made by `create` and swaps it in by reference
 * when it commits, so `current()` returns either the old complete model or the new complete one.
 *
 * @param create - makes an empty model; called once now and once per rebuild.
 * @example
 * ```ts
 * const board = memoryReadModel(() => new Map<string, { title: string; done: boolean }>());
 * startProjection(taskBoard, { store, checkpoints, model: board });
 * app.get('/tasks', () => [...board.current().values()]);
 * ```
 */
export function memoryReadModel<TModel>(create: () => TModel): MemoryReadModel<TModel> {
  let live = create();
  return {
    get live() {
      return live;
    },
    current: () => live,
    beginRebuild: () => create(),
    commitRebuild(next) {
      live = next;
    },
    abortRebuild() {},
  };
}

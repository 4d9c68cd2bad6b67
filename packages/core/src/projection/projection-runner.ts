import { ProjectionError } from '../errors';
import type { AnyEventDefinition } from '../events/define-event';
import type { EventStore, StoredEvent } from '../store/event-store';
import { decodeStoredEvent } from './decode-stored-event';
import type { ProjectionContext, ProjectionDefinition } from './define-projection';

type Handler<TModel> = (event: StoredEvent, ctx: ProjectionContext<TModel>) => void | Promise<void>;

/** How far one reader (the live run or a rebuild) got. */
export interface Cursor {
  /** Position after which the next read starts: the last handled event, or past skipped ones. */
  position: string | undefined;
}

/** What a projection run needs to read and apply pages. */
export interface PageReader<TModel> {
  readonly projection: ProjectionDefinition<AnyEventDefinition, TModel>;
  readonly store: EventStore;
  readonly catalog: ReadonlyMap<string, AnyEventDefinition>;
  readonly batchSize: number;
  readonly signal: AbortSignal;
}

/**
 * Reads the page after `cursor.position` and applies its events to `model` in order, advancing the cursor after
 * each one so that a failure leaves it on the last applied event. `afterEvent` runs after each event (the live
 * run saves checkpoints there). Stops between events once `signal` aborts.
 *
 * @returns whether the read found nothing after the cursor (the reader is caught up with the store).
 * @throws {@link ProjectionError} when decoding or a handler fails; the event is not skipped.
 */
export async function applyPage<TModel>(
  reader: PageReader<TModel>,
  cursor: Cursor,
  model: TModel,
  rebuilding: boolean,
  afterEvent?: () => Promise<void> | undefined,
): Promise<boolean> {
  const { projection, signal } = reader;
  const from = cursor.position;
  const page = await reader.store.readPage({
    limit: reader.batchSize,
    types: projection.types,
    ...(from === undefined ? {} : { from }),
  });
  const handlers = projection.handlers as Readonly<Record<string, Handler<TModel> | undefined>>;
  for (const stored of page.events) {
    if (signal.aborted) return false;
    const handler = handlers[stored.type];
    if (handler !== undefined) {
      try {
        const decoded = decodeStoredEvent(`projection "${projection.name}"`, reader.catalog, stored);
        const event = decoded instanceof Promise ? await decoded : decoded;
        const done = handler(event, { model, position: stored.position, rebuilding, signal });
        if (done instanceof Promise) await done;
      } catch (error) {
        throw new ProjectionError(projection.name, stored, error);
      }
    }
    cursor.position = stored.position;
    const saved = afterEvent?.();
    if (saved !== undefined) await saved;
  }
  if (signal.aborted) return false;
  if (page.next !== undefined) cursor.position = page.next;
  return page.events.length === 0 && (page.next === undefined || page.next === from);
}

/** A promise chain that runs one task at a time. */
export interface Lock {
  run<T>(task: () => Promise<T>): Promise<T>;
}

/** Creates a {@link Lock}. */
export function createLock(): Lock {
  let tail: Promise<unknown> = Promise.resolve();
  return {
    run(task) {
      const result = tail.then(task);
      tail = result.catch(() => {});
      return result;
    },
  };
}

/** A promise with its settle functions; rejections are marked handled so unobserved ones stay quiet. */
export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(reason: unknown): void;
}

/** Creates a {@link Deferred}. */
export function deferred<T>(): Deferred<T> {
  let resolve: (value: T) => void = () => {};
  let reject: (reason: unknown) => void = () => {};
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {});
  return { promise, resolve, reject };
}

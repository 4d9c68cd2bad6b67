import { InvalidOptionError } from '../errors';
import type { EventPage, EventStore, ReadAllOptions, StoredEvent } from './event-store';

const DEFAULT_BATCH_SIZE = 500;

/** Validates a batch size option and returns it with its default. */
export function batchSizeOf(where: string, batchSize: number | undefined): number {
  const size = batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(size) || size < 1) {
    throw new InvalidOptionError(where, 'batchSize', `must be an integer >= 1, got ${String(batchSize)}`);
  }
  return size;
}

/**
 * Reads the global log page by page until the end that existed when each page was read. Stores implement
 * `readAll` with it on top of their `readPage`.
 *
 * @example
 * ```ts
 * const store: EventStore = { ...rest, readAll: (options) => readAllPages(store, options) };
 * ```
 */
export async function* readAllPages(
  store: Pick<EventStore, 'readPage'>,
  options: ReadAllOptions = {},
): AsyncGenerator<StoredEvent> {
  const limit = batchSizeOf('readAll', options.batchSize);
  const read = (from: string | undefined): Promise<EventPage> =>
    readPageAhead(store, limit, options.types, from);
  let from = options.from;
  options.signal?.throwIfAborted();
  // The next page is read while the caller works through this one.
  let pending: Promise<EventPage> | undefined = read(from);
  while (pending !== undefined) {
    options.signal?.throwIfAborted();
    const page: EventPage = await pending;
    const more = page.next !== undefined && page.next !== from;
    pending = undefined;
    if (more) {
      from = page.next;
      pending = read(from);
    }
    yield* page.events;
  }
}

/** Starts reading the page after `from` ahead of need (see {@link readAhead}). */
export function readPageAhead(
  store: Pick<EventStore, 'readPage'>,
  limit: number,
  types: ReadonlyArray<string> | undefined,
  from: string | undefined,
): Promise<EventPage> {
  return readAhead(
    store.readPage({
      limit,
      ...(from === undefined ? {} : { from }),
      ...(types === undefined ? {} : { types }),
    }),
  );
}

/**
 * Marks a read started ahead of need as handled, so it never counts as an unhandled rejection while nobody awaits
 * it yet, or at all when the reader stops early. Awaiting the returned promise still throws its error.
 */
export function readAhead<T>(read: Promise<T>): Promise<T> {
  read.catch(() => undefined);
  return read;
}

/**
 * A catch-up subscription: every event after `from` (history first), then new events as they are appended, with
 * no gap and no duplicate at the seam. Runs until `signal` aborts; then the iteration ends quietly.
 *
 * @example
 * ```ts
 * const controller = new AbortController();
 * for await (const event of subscribeToAll(store, { from: checkpoint, signal: controller.signal })) {
 *   await project(event);
 * }
 * ```
 */
export async function* subscribeToAll(
  store: EventStore,
  options: ReadAllOptions = {},
): AsyncGenerator<StoredEvent> {
  const limit = batchSizeOf('subscribeToAll', options.batchSize);
  const { signal } = options;
  const aborted = (): boolean => signal?.aborted === true;
  let from = options.from;
  while (!aborted()) {
    const page = await store.readPage({
      limit,
      ...(from === undefined ? {} : { from }),
      ...(options.types === undefined ? {} : { types: options.types }),
    });
    for (const event of page.events) {
      if (aborted()) return;
      yield event;
    }
    const advanced = page.next !== undefined && page.next !== from;
    if (page.next !== undefined) from = page.next;
    if (!advanced) {
      try {
        // A store whose wake-up is only a hint may resolve at once; give timers and I/O a turn so that never spins.
        await new Promise<void>((resolve) => setImmediate(resolve));
        await store.waitForEvents(from, signal);
      } catch (error) {
        if (aborted()) return;
        throw error;
      }
    }
  }
}

import { InvalidOptionError } from '../errors';
import type { EventPage, EventStore, StoredEvent } from './event-store';
import { batchSizeOf, readPageAhead } from './read-helpers';

/**
 * Progress of a replay, reported through `onProgress` and returned at the end.
 *
 * @example
 * ```ts
 * const onProgress = (p: ReplayProgress) => console.log(`${p.events} events, ${Math.round(p.eventsPerSecond)}/s`);
 * ```
 */
export interface ReplayProgress {
  /** Events handed to `handle` so far. */
  readonly events: number;
  /** Average rate since the replay started. */
  readonly eventsPerSecond: number;
  /** Position of the last handled event (or the last one read, when filtered). */
  readonly position: string | undefined;
  /** Whether the replay has finished. */
  readonly done: boolean;
}

/**
 * Options of {@link replay}.
 *
 * @example
 * ```ts
 * await replay(store, { types: ['task.created'], handle: (event) => index(event), signal });
 * ```
 */
export interface ReplayOptions {
  /** Start after this position (exclusive); from the beginning when absent. */
  from?: string;
  /**
   * Stop after this position (inclusive).
   * @defaultValue the store's head when the replay starts, so a replay of a busy store ends
   */
  to?: string;
  /** Only events of these types. */
  types?: ReadonlyArray<string>;
  /**
   * Events read per round trip.
   * @defaultValue 1000
   */
  batchSize?: number;
  /** Called with every event, in global order. Awaited only when it returns a promise. */
  handle: (event: StoredEvent) => void | Promise<void>;
  /** Called every `progressIntervalMs` and once at the end. */
  onProgress?: (progress: ReplayProgress) => void;
  /**
   * How often `onProgress` is called.
   * @defaultValue 1000
   */
  progressIntervalMs?: number;
  /** Aborting it stops the replay between events; `replay` then rejects with the abort reason. */
  signal?: AbortSignal;
}

/**
 * Replays stored events in global order into a handler: batched, cancellable, with progress.
 *
 * @throws {@link InvalidOptionError} for a missing handler or a bad batch size; rethrows the handler's errors.
 * @example
 * ```ts
 * const result = await replay(store, {
 *   from: checkpoint,
 *   handle: (event) => readModel.apply(event),
 *   onProgress: ({ events, eventsPerSecond }) => log.info('replaying', { events, eventsPerSecond }),
 * });
 * ```
 */
export async function replay(store: EventStore, options: ReplayOptions): Promise<ReplayProgress> {
  if (typeof options?.handle !== 'function') {
    throw new InvalidOptionError('replay()', 'handle', 'must be a function that receives each event');
  }
  const limit = batchSizeOf('replay()', options.batchSize ?? 1_000);
  const interval = options.progressIntervalMs ?? 1_000;
  const { handle, signal, onProgress } = options;
  const to = options.to ?? (await store.headPosition());
  const started = performance.now();
  let nextReport = started + interval;
  let events = 0;
  let position = options.from;
  const progress = (done: boolean): ReplayProgress => {
    const seconds = (performance.now() - started) / 1_000;
    return { events, eventsPerSecond: seconds > 0 ? events / seconds : 0, position, done };
  };
  if (to === undefined) return finish();
  const read = (from: string | undefined): Promise<EventPage> =>
    readPageAhead(store, limit, options.types, from);
  // The next page is read while this one is handled, so the store's round trip overlaps the handler's work.
  let pending: Promise<EventPage> | undefined =
    position === undefined || position < to ? read(position) : undefined;
  while (pending !== undefined) {
    signal?.throwIfAborted();
    const page: EventPage = await pending;
    pending = page.next !== undefined && page.next < to ? read(page.next) : undefined;
    const batch = page.events;
    const last = batch[batch.length - 1];
    if (last !== undefined && last.position > to) {
      // The page crosses `to`: the only one that needs a per-event bound check.
      for (const event of batch) {
        if (event.position > to) return finish();
        const result = handle(event);
        if (result instanceof Promise) await result;
        events += 1;
        position = event.position;
      }
    } else if (last !== undefined) {
      for (let i = 0; i < batch.length; i++) {
        const result = handle(batch[i] as StoredEvent);
        if (result instanceof Promise) await result;
      }
      events += batch.length;
      position = last.position;
    }
    if (pending === undefined) break;
    position = page.next;
    if (onProgress !== undefined && performance.now() >= nextReport) {
      onProgress(progress(false));
      nextReport = performance.now() + interval;
    }
  }
  return finish();

  function finish(): ReplayProgress {
    const final = progress(true);
    onProgress?.(final);
    return final;
  }
}

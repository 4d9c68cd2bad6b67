import { StreamNotFoundError } from '../errors';
import type { AnyEventDefinition, EventOf } from '../events/define-event';
import { decodeStoredEvent, eventCatalog } from '../projection/decode-stored-event';
import type { EventStore } from '../store/event-store';
import { type Aggregate, createAggregate } from './aggregate';
import type { AggregateDefinition } from './define-aggregate';
import type { SnapshotStore } from './snapshot-store';

/**
 * Options of {@link loadAggregate}.
 *
 * @example
 * ```ts
 * const options: LoadAggregateOptions = { snapshots: memorySnapshotStore() };
 * ```
 */
export interface LoadAggregateOptions {
  /**
   * Where to look for a snapshot to start from (used only when the aggregate defines a snapshot policy).
   * @defaultValue none: the state is rebuilt from the first event
   */
  snapshots?: SnapshotStore;
  /** Aborting it stops reading the stream with the abort reason. */
  signal?: AbortSignal;
}

/**
 * Loads an aggregate: starts from its newest snapshot when there is one of the definition's `schemaVersion`, then
 * folds in only the events after it, each upcast and validated by its definition. A stream with no events is a
 * new aggregate at version 0.
 *
 * @throws `UnknownStreamEventError` naming the stream and version of an event type the aggregate does not list.
 * @throws `InvalidEnvelopeError` when a stored event cannot be upcast or fails its schema.
 * @example
 * ```ts
 * const task = await loadAggregate(store, Task, 't1', { snapshots });
 * console.log(task.version, task.state.title);
 * ```
 */
export async function loadAggregate<TState, TEvents extends AnyEventDefinition>(
  store: EventStore,
  aggregate: AggregateDefinition<TState, TEvents>,
  id: string,
  options: LoadAggregateOptions = {},
): Promise<Aggregate<TState, TEvents>> {
  const stream = aggregate.streamOf(id);
  const reader = `aggregate "${aggregate.name}"`;
  const catalog = eventCatalog(reader, aggregate.events);
  const snapshot = await usableSnapshot(aggregate, stream, options.snapshots);
  let state = snapshot?.state ?? aggregate.initialState();
  let version = snapshot?.streamVersion ?? 0;
  try {
    const events = store.readStream(stream, {
      fromVersion: version + 1,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    for await (const stored of events) {
      const decoded = decodeStoredEvent(reader, catalog, stored);
      const event = decoded instanceof Promise ? await decoded : decoded;
      state = aggregate.evolve(state, event as unknown as EventOf<TEvents>);
      version = stored.streamVersion;
    }
  } catch (error) {
    if (!(error instanceof StreamNotFoundError && error.stream === stream)) throw error;
    return createAggregate(aggregate, id, {
      state: aggregate.initialState(),
      version: 0,
      snapshotVersion: 0,
    });
  }
  return createAggregate(aggregate, id, { state, version, snapshotVersion: snapshot?.streamVersion ?? 0 });
}

async function usableSnapshot<TState>(
  aggregate: AggregateDefinition<TState, AnyEventDefinition>,
  stream: string,
  snapshots: SnapshotStore | undefined,
): Promise<{ state: TState; streamVersion: number } | undefined> {
  if (snapshots === undefined || aggregate.snapshot === undefined) return undefined;
  const snapshot = await snapshots.load(stream);
  if (snapshot === undefined || snapshot.stream !== stream) return undefined;
  // A snapshot of another shape would feed evolve a state it does not expect: rebuild from events instead.
  if (snapshot.schemaVersion !== aggregate.snapshot.schemaVersion) return undefined;
  if (!Number.isInteger(snapshot.streamVersion) || snapshot.streamVersion < 1) return undefined;
  return { state: snapshot.state as TState, streamVersion: snapshot.streamVersion };
}

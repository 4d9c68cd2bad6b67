import type { Envelope } from '../events/envelope';

/**
 * What the writer expects of the stream before an append:
 * `'any'` (no check), `'no_stream'` (the stream must not exist), `'stream_exists'` (it must have at least one
 * event), or an exact version (the stream's current version; `0` means no stream yet).
 *
 * @example
 * ```ts
 * await store.append('task-1', [event], { expectedVersion: 3 });
 * ```
 */
export type ExpectedVersion = 'any' | 'no_stream' | 'stream_exists' | number;

/**
 * Options of {@link EventStore.append}.
 *
 * @example
 * ```ts
 * const options: AppendOptions = { expectedVersion: 'no_stream' };
 * ```
 */
export interface AppendOptions<TTransaction = never> {
  /**
   * Optimistic concurrency check; a mismatch throws `VersionConflictError`.
   * @defaultValue 'any'
   */
  expectedVersion?: ExpectedVersion;
  /**
   * Append inside this transaction of the caller's (for the Postgres store, a `pg` client after `BEGIN`): the events
   * commit or roll back with it. Only stores with transactions accept one; its type is the store's.
   */
  transaction?: TTransaction;
}

/**
 * An event as stored: its envelope plus its global `position`, its `stream` and its version in that stream.
 *
 * @example
 * ```ts
 * for await (const event of store.readStream('task-1')) console.log(event.streamVersion, event.type);
 * ```
 */
export type StoredEvent<TEnvelope extends Envelope = Envelope> = TEnvelope & {
  /** Global position. Positions of one store compare correctly as plain strings. */
  readonly position: string;
  /** The stream the event belongs to. */
  readonly stream: string;
  /** Version of the stream after this event: 1 for the first. */
  readonly streamVersion: number;
};

/**
 * What an append did.
 *
 * @example
 * ```ts
 * const { streamVersion, lastPosition } = await store.append('task-1', [event]);
 * ```
 */
export interface AppendResult {
  /** The stream appended to. */
  readonly stream: string;
  /** Version of the stream after the append. */
  readonly streamVersion: number;
  /** Position of the first appended event. */
  readonly firstPosition: string;
  /** Position of the last appended event. */
  readonly lastPosition: string;
  /** The appended events as stored. */
  readonly events: ReadonlyArray<StoredEvent>;
}

/**
 * Options of {@link EventStore.readStream}.
 *
 * @example
 * ```ts
 * store.readStream('task-1', { fromVersion: 11 }); // events after a snapshot taken at version 10
 * ```
 */
export interface ReadStreamOptions {
  /**
   * First stream version to return (inclusive).
   * @defaultValue 1
   */
  fromVersion?: number;
  /**
   * Events fetched per round trip.
   * @defaultValue 500
   */
  batchSize?: number;
  /** Aborting it stops the iteration with the abort reason. */
  signal?: AbortSignal;
}

/**
 * Options of {@link EventStore.readAll} and of catch-up subscriptions.
 *
 * @example
 * ```ts
 * store.readAll({ from: checkpoint, types: ['task.created'], batchSize: 1_000 });
 * ```
 */
export interface ReadAllOptions {
  /** Start after this position (exclusive); from the beginning when absent. */
  from?: string;
  /** Only events of these types. */
  types?: ReadonlyArray<string>;
  /**
   * Events fetched per round trip.
   * @defaultValue 500
   */
  batchSize?: number;
  /** Aborting it stops the iteration with the abort reason. */
  signal?: AbortSignal;
}

/**
 * One page of the global log, returned by {@link EventStore.readPage}.
 *
 * @example
 * ```ts
 * const page = await store.readPage({ limit: 100 });
 * ```
 */
export interface EventPage {
  /** Events in global order. */
  readonly events: ReadonlyArray<StoredEvent>;
  /**
   * Position the next page starts after. It may be past the last returned event when filtered-out events were
   * skipped, so filtered readers do not rescan them. Absent when nothing was read.
   */
  readonly next: string | undefined;
}

/**
 * The event store contract: an append-only log of streams with a global order. Implemented by
 * `memoryEventStore()` here and by the Postgres store in `@relaybus/outbox-pg`; checked by
 * `describeEventStoreConformance` from `@relaybus/core/testing`.
 *
 * @example
 * ```ts
 * const store: EventStore = memoryEventStore();
 * await store.append('task-1', [TaskCreated.create({ taskId: '1', title: 'Write' })], { expectedVersion: 'no_stream' });
 * for await (const event of store.readAll()) console.log(event.position, event.type);
 * ```
 */
export interface EventStore<TTransaction = never> {
  /** A short name for errors and logs, such as `memory` or `postgres`. */
  readonly name: string;
  /**
   * `true` when this store is a transactional outbox: a relay reading it (such as `createOutboxRelay` of
   * `@relaybus/outbox-pg`) delivers every appended event to the transport. A bus with such a store only appends and
   * never sends itself, so each event reaches each group once. Absent or `false`: the bus sends after appending.
   */
  readonly outbox?: boolean;
  /**
   * Appends events to a stream atomically. Appending the same event ids again at the same versions returns the
   * original result instead of failing.
   * @throws `VersionConflictError` when `expectedVersion` does not hold.
   * @throws `InvalidOptionError` for an empty batch or a malformed stream name.
   * @throws `InvalidEnvelopeError` for events that are not envelopes.
   */
  append(
    stream: string,
    events: ReadonlyArray<Envelope>,
    options?: AppendOptions<TTransaction>,
  ): Promise<AppendResult>;
  /**
   * Reads one stream in version order.
   * @throws `StreamNotFoundError` (on first iteration) when the stream has no events.
   */
  readStream(stream: string, options?: ReadStreamOptions): AsyncIterable<StoredEvent>;
  /** Reads every stream in global order, optionally filtered by type, in batches. */
  readAll(options?: ReadAllOptions): AsyncIterable<StoredEvent>;
  /**
   * Reads one page of the global log after `from`. The building block of `readAll`, replay and catch-up
   * subscriptions.
   * @throws `InvalidPositionError` when `from` is not a position of this store.
   */
  readPage(options: { from?: string; types?: ReadonlyArray<string>; limit: number }): Promise<EventPage>;
  /** Current version of a stream: 0 when it has no events. */
  streamVersion(stream: string): Promise<number>;
  /** Position of the newest event, or `undefined` for an empty store. */
  headPosition(): Promise<string | undefined>;
  /**
   * Resolves once an event after `from` may be readable (or at once if one already is). A hint: callers read
   * again after it resolves. Rejects with the abort reason when `signal` aborts.
   */
  waitForEvents(from: string | undefined, signal?: AbortSignal): Promise<void>;
  /** Releases resources (listeners, timers). Does not close connections the user passed in. */
  close(): Promise<void>;
}

import { InvalidOptionError } from '../errors';
import type { AnyEventDefinition } from '../events/define-event';
import { consoleLogger, type Logger } from '../logger';
import type { AppendResult, EventStore, ExpectedVersion } from '../store/event-store';
import { type Aggregate, type AggregateInternals, internalsOf } from './aggregate';
import type { SnapshotStore } from './snapshot-store';

/**
 * Options of {@link saveAggregate}.
 *
 * @example
 * ```ts
 * await saveAggregate(store, task, { snapshots, expectedVersion: task.version });
 * ```
 */
export interface SaveAggregateOptions {
  /**
   * Where to save a snapshot when the aggregate's policy says one is due.
   * @defaultValue none: no snapshot is taken
   */
  snapshots?: SnapshotStore;
  /**
   * Optimistic concurrency check of the append.
   * @defaultValue `aggregate.version`, the version it was loaded (or last saved) at
   */
  expectedVersion?: ExpectedVersion;
  /**
   * Receives a warning when a snapshot cannot be saved (the events are saved; loading just reads more of them).
   * @defaultValue `consoleLogger`
   */
  logger?: Logger;
}

/**
 * Appends the aggregate's raised events (taken with `pullEvents()`) with optimistic concurrency, then takes a
 * snapshot when `every` events have been appended since the last one. When the append fails, the events go back
 * to the aggregate so that a retry appends them (with the same ids, which the store deduplicates).
 *
 * @returns the append's result, or `undefined` when there was nothing to save.
 * @throws `VersionConflictError` when another writer changed the stream since the aggregate was loaded: reload
 * it and run the command again.
 * @throws {@link InvalidOptionError} when `aggregate` was not made by `loadAggregate`.
 * @example
 * ```ts
 * const task = await loadAggregate(store, Task, 't1', { snapshots });
 * task.raise(TaskCompleted, { taskId: 't1' });
 * await saveAggregate(store, task, { snapshots });
 * ```
 */
export async function saveAggregate<TState, TEvents extends AnyEventDefinition>(
  store: EventStore,
  aggregate: Aggregate<TState, TEvents>,
  options: SaveAggregateOptions = {},
): Promise<AppendResult | undefined> {
  const inner = typeof aggregate === 'object' && aggregate !== null ? internalsOf(aggregate) : undefined;
  if (inner === undefined) {
    throw new InvalidOptionError(
      'saveAggregate()',
      'aggregate',
      'must be a handle returned by loadAggregate()',
    );
  }
  const events = aggregate.pullEvents();
  if (events.length === 0) return undefined;
  let result: AppendResult;
  try {
    result = await store.append(aggregate.stream, events, {
      expectedVersion: options.expectedVersion ?? inner.version,
    });
  } catch (error) {
    inner.restore(events);
    throw error;
  }
  inner.version = result.streamVersion;
  await snapshotIfDue(aggregate, inner, options);
  return result;
}

async function snapshotIfDue(
  aggregate: Aggregate<unknown, AnyEventDefinition>,
  inner: AggregateInternals,
  options: SaveAggregateOptions,
): Promise<void> {
  const policy = inner.definition.snapshot;
  if (options.snapshots === undefined || policy === undefined) return;
  // Only when the state holds exactly the stored events: not when other writers' events interleaved.
  if (inner.version !== inner.applied || inner.version - inner.snapshotVersion < policy.every) return;
  try {
    await options.snapshots.save({
      stream: aggregate.stream,
      streamVersion: inner.version,
      schemaVersion: policy.schemaVersion,
      state: aggregate.state,
      takenAt: new Date().toISOString(),
    });
    inner.snapshotVersion = inner.version;
  } catch (error) {
    (options.logger ?? consoleLogger).warn(`snapshot of "${aggregate.stream}" not saved`, { error });
  }
}

import { InvalidOptionError } from '../errors';
import type { Logger } from '../logger';
import type { EventStore } from '../store/event-store';
import type { CheckpointStore } from './checkpoint-store';
import type { ReadModel } from './read-model';

/**
 * Options of `startProjection`.
 *
 * @example
 * ```ts
 * const options: StartProjectionOptions<Board> = { store, checkpoints, model, checkpointIntervalMs: 1_000 };
 * ```
 */
export interface StartProjectionOptions<TModel> {
  /** The event store to read. */
  store: EventStore;
  /** Where the checkpoint (named `${name}@v${version}`) is kept. */
  checkpoints: CheckpointStore;
  /** The read model handlers write to, and how to rebuild it aside. */
  model: ReadModel<TModel>;
  /**
   * Events read per round trip.
   * @defaultValue 500
   */
  batchSize?: number;
  /**
   * Save the checkpoint once this many events were read since the last save. Use `Infinity` to save on time
   * (`checkpointIntervalMs`) only. The checkpoint is also saved whenever the projection catches up, and on close.
   * @defaultValue `batchSize`, so about once per batch
   */
  checkpointEveryEvents?: number;
  /**
   * Also save the checkpoint when this long has passed since the last save (checked after each event).
   * @defaultValue no time trigger
   */
  checkpointIntervalMs?: number;
  /** Aborting it closes the projection. */
  signal?: AbortSignal;
  /**
   * Receives rebuild and failure messages.
   * @defaultValue `consoleLogger`
   */
  logger?: Logger;
  /**
   * Called once when the projection stops on an error: a `ProjectionError` for a failed handler (the event
   * is not skipped), or the store's or checkpoint store's error.
   * @defaultValue logs the error with `logger.error`
   */
  onError?: (error: Error) => void;
}

/**
 * Validates the arguments of `startProjection` at the boundary.
 * @throws {@link InvalidOptionError} naming the first option at fault.
 */
export function checkStartProjectionOptions<TModel>(
  where: string,
  projection: { readonly checkpointName?: unknown } | undefined,
  options: StartProjectionOptions<TModel> | undefined,
): void {
  if (typeof projection?.checkpointName !== 'string') {
    throw new InvalidOptionError(where, 'projection', 'must be a projection made by defineProjection()');
  }
  if (typeof options?.store?.readPage !== 'function') {
    throw new InvalidOptionError(where, 'store', 'must be an EventStore');
  }
  if (typeof options.checkpoints?.save !== 'function') {
    throw new InvalidOptionError(where, 'checkpoints', 'must be a CheckpointStore');
  }
  if (
    typeof options.model?.beginRebuild !== 'function' ||
    typeof options.model.commitRebuild !== 'function'
  ) {
    throw new InvalidOptionError(
      where,
      'model',
      'must be a ReadModel such as memoryReadModel(() => new Map())',
    );
  }
  const every = options.checkpointEveryEvents;
  if (
    every !== undefined &&
    !(every === Number.POSITIVE_INFINITY || (Number.isInteger(every) && every >= 1))
  ) {
    throw new InvalidOptionError(
      where,
      'checkpointEveryEvents',
      `must be an integer >= 1 or Infinity, got ${every}`,
    );
  }
  const interval = options.checkpointIntervalMs;
  if (interval !== undefined && !(Number.isFinite(interval) && interval >= 0)) {
    throw new InvalidOptionError(
      where,
      'checkpointIntervalMs',
      `must be a finite number >= 0, got ${interval}`,
    );
  }
}

/**
 * Where projections keep their checkpoints: the global position of the last event they handled, by name.
 * Implemented by `memoryCheckpointStore()` here and by the Postgres store in `@relaybus/outbox-pg`.
 *
 * @example
 * ```ts
 * const checkpoints: CheckpointStore = memoryCheckpointStore();
 * await checkpoints.save('task-board@v1', '0000000000000042');
 * await checkpoints.load('task-board@v1'); // '0000000000000042'
 * ```
 */
export interface CheckpointStore {
  /** The stored position of a checkpoint, or `undefined` when it has none. */
  load(name: string): Promise<string | undefined>;
  /**
   * Stores a position. With `expected`, a compare-and-set: the save happens only while the stored position is
   * `expected`. Without it (or with `undefined`), the save is unconditional.
   * @throws `CheckpointConflictError` when `expected` is given and differs from the stored position.
   */
  save(name: string, position: string, expected?: string | undefined): Promise<void>;
  /** Removes a checkpoint; removing one that does not exist does nothing. */
  delete(name: string): Promise<void>;
}

/**
 * An aggregate's state at one version of its stream, so loading can start there instead of at the first event.
 *
 * @example
 * ```ts
 * const snapshot: Snapshot<TaskState> = {
 *   stream: 'task-1', streamVersion: 100, schemaVersion: 2, state, takenAt: new Date().toISOString(),
 * };
 * ```
 */
export interface Snapshot<TState = unknown> {
  /** The stream the state was built from. */
  readonly stream: string;
  /** Version of the stream that `state` includes (the last event folded into it). */
  readonly streamVersion: number;
  /** Shape version of `state`; snapshots of another version are ignored on load. */
  readonly schemaVersion: number;
  /** The state. Stores may serialise it, so keep it to JSON-like data. */
  readonly state: TState;
  /** When the snapshot was taken, ISO 8601 in UTC. */
  readonly takenAt: string;
}

/**
 * Where aggregate snapshots are kept: the newest one per stream. Implemented by `memorySnapshotStore()` here;
 * adapters may implement it over a table or a key-value store.
 *
 * @example
 * ```ts
 * const snapshots: SnapshotStore = memorySnapshotStore();
 * const task = await loadAggregate(store, Task, 't1', { snapshots });
 * ```
 */
export interface SnapshotStore {
  /** The newest snapshot of a stream, or `undefined` when it has none. */
  load(stream: string): Promise<Snapshot | undefined>;
  /** Stores a snapshot, replacing the stream's previous one. */
  save(snapshot: Snapshot): Promise<void>;
}

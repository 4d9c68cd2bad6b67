import type { Snapshot, SnapshotStore } from './snapshot-store';

/**
 * A {@link SnapshotStore} in process memory. It keeps and hands out `structuredClone` copies, so neither the
 * caller that saved a snapshot nor one that loaded it can change the stored state.
 *
 * @example
 * ```ts
 * const snapshots = memorySnapshotStore();
 * await saveAggregate(store, task, { snapshots });
 * ```
 */
export function memorySnapshotStore(): SnapshotStore {
  const snapshots = new Map<string, Snapshot>();
  return {
    async load(stream) {
      const snapshot = snapshots.get(stream);
      return snapshot === undefined ? undefined : structuredClone(snapshot);
    },
    async save(snapshot) {
      snapshots.set(snapshot.stream, structuredClone(snapshot));
    },
  };
}

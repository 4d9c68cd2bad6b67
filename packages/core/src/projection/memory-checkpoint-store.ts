import { CheckpointConflictError } from '../errors';
import type { CheckpointStore } from './checkpoint-store';

/**
 * A {@link CheckpointStore} in process memory, for tests and for projections whose read model is in memory too
 * (both are lost on restart, so they rebuild together).
 *
 * @example
 * ```ts
 * const projection = startProjection(taskBoard, {
 *   store,
 *   checkpoints: memoryCheckpointStore(),
 *   model: memoryReadModel(() => new Map()),
 * });
 * ```
 */
export function memoryCheckpointStore(): CheckpointStore {
  const positions = new Map<string, string>();
  return {
    async load(name) {
      return positions.get(name);
    },
    async save(name, position, expected) {
      const actual = positions.get(name);
      if (expected !== undefined && actual !== expected)
        throw new CheckpointConflictError(name, expected, actual);
      positions.set(name, position);
    },
    async delete(name) {
      positions.delete(name);
    },
  };
}

import { describe, expect, it } from 'vitest';
import { memorySnapshotStore } from './memory-snapshot-store';

describe('memorySnapshotStore', () => {
  it('keeps the newest snapshot per stream', async () => {
    const snapshots = memorySnapshotStore();
    expect(await snapshots.load('task-1')).toBeUndefined();
    const takenAt = new Date().toISOString();
    await snapshots.save({ stream: 'task-1', streamVersion: 3, schemaVersion: 1, state: { n: 3 }, takenAt });
    await snapshots.save({ stream: 'task-1', streamVersion: 6, schemaVersion: 1, state: { n: 6 }, takenAt });
    await snapshots.save({ stream: 'task-2', streamVersion: 1, schemaVersion: 1, state: { n: 1 }, takenAt });
    expect(await snapshots.load('task-1')).toEqual({
      stream: 'task-1',
      streamVersion: 6,
      schemaVersion: 1,
      state: { n: 6 },
      takenAt,
    });
  });

  it('stores and hands out copies, so callers cannot change what is stored', async () => {
    const snapshots = memorySnapshotStore();
    const state = { tags: ['a'] };
    await snapshots.save({ stream: 's', streamVersion: 1, schemaVersion: 1, state, takenAt: '' });
    state.tags.push('saved-then-mutated');
    const loaded = await snapshots.load('s');
    expect(loaded).toBeDefined();
    (loaded as { state: { tags: string[] } }).state.tags.push('loaded-then-mutated');
    expect((await snapshots.load('s'))?.state).toEqual({ tags: ['a'] });
  });
});

import { CheckpointConflictError } from '@relaybus/core';
import { describe, expect, it } from 'vitest';
import { postgresCheckpointStore, postgresSnapshotStore } from '../src/index';
import { useTestDatabase } from './support/database';

const db = useTestDatabase();

describe('postgresCheckpointStore', () => {
  it('loads, saves, compares-and-sets and deletes', async () => {
    const schema = await db.newSchema();
    const checkpoints = postgresCheckpointStore({ pool: db.pool, schema });
    expect(await checkpoints.load('board')).toBeUndefined();
    await checkpoints.save('board', 'p1');
    expect(await checkpoints.load('board')).toBe('p1');
    await checkpoints.save('board', 'p2', 'p1');
    expect(await checkpoints.load('board')).toBe('p2');

    const stale = await checkpoints.save('board', 'p3', 'p1').catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(CheckpointConflictError);
    expect(stale).toMatchObject({ checkpoint: 'board', expected: 'p1', actual: 'p2' });
    const missing = await checkpoints.save('other', 'p1', 'p0').catch((e: unknown) => e);
    expect(missing).toMatchObject({ name: 'CheckpointConflictError', expected: 'p0', actual: undefined });
    expect(await checkpoints.load('other')).toBeUndefined();

    await checkpoints.delete('board');
    await checkpoints.delete('board');
    expect(await checkpoints.load('board')).toBeUndefined();
  });

  it('saves inside the caller’s transaction when given a client', async () => {
    const schema = await db.newSchema();
    const client = await db.client();
    await client.query('BEGIN');
    await postgresCheckpointStore({ pool: client, schema }).save('board', 'p1');
    await client.query('ROLLBACK');
    expect(await postgresCheckpointStore({ pool: db.pool, schema }).load('board')).toBeUndefined();
  });
});

describe('postgresSnapshotStore', () => {
  it('keeps the newest snapshot per stream and never goes back to an older version', async () => {
    const schema = await db.newSchema();
    const snapshots = postgresSnapshotStore({ pool: db.pool, schema });
    expect(await snapshots.load('task-1')).toBeUndefined();
    const v10 = {
      stream: 'task-1',
      streamVersion: 10,
      schemaVersion: 2,
      state: { title: 'Write ✓', tags: ['a', null, { n: 1 }] },
      takenAt: '2026-01-02T03:04:05.678Z',
    };
    await snapshots.save(v10);
    expect(await snapshots.load('task-1')).toEqual(v10);
    const v12 = { ...v10, streamVersion: 12, state: { title: 'Done' } };
    await snapshots.save(v12);
    await snapshots.save({ ...v10, streamVersion: 11, state: { title: 'late writer' } });
    expect(await snapshots.load('task-1')).toEqual(v12);
  });
});

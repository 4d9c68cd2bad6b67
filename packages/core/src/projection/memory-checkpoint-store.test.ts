import { describe, expect, it } from 'vitest';
import { CheckpointConflictError } from '../errors';
import { memoryCheckpointStore } from './memory-checkpoint-store';

describe('memoryCheckpointStore', () => {
  it('loads what was saved, and nothing after delete', async () => {
    const checkpoints = memoryCheckpointStore();
    expect(await checkpoints.load('board@v1')).toBeUndefined();
    await checkpoints.save('board@v1', '0000000000000003');
    await checkpoints.save('other@v1', '0000000000000001');
    expect(await checkpoints.load('board@v1')).toBe('0000000000000003');
    await checkpoints.delete('board@v1');
    await checkpoints.delete('never-saved');
    expect(await checkpoints.load('board@v1')).toBeUndefined();
    expect(await checkpoints.load('other@v1')).toBe('0000000000000001');
  });

  it('compares and sets when an expected position is given', async () => {
    const checkpoints = memoryCheckpointStore();
    await checkpoints.save('board@v1', '0000000000000003', undefined);
    await checkpoints.save('board@v1', '0000000000000005', '0000000000000003');
    const error = await checkpoints.save('board@v1', '0000000000000009', '0000000000000003').catch((e) => e);
    expect(error).toBeInstanceOf(CheckpointConflictError);
    expect(error).toMatchObject({
      code: 'CHECKPOINT_CONFLICT',
      checkpoint: 'board@v1',
      expected: '0000000000000003',
      actual: '0000000000000005',
    });
    expect(await checkpoints.load('board@v1')).toBe('0000000000000005');
  });

  it('refuses an expected position when none is stored', async () => {
    const checkpoints = memoryCheckpointStore();
    const error = await checkpoints.save('board@v1', '0000000000000002', '0000000000000001').catch((e) => e);
    expect(error).toMatchObject({ code: 'CHECKPOINT_CONFLICT', actual: undefined });
    expect(error.message).toContain('no position');
  });
});

import { describe, expect, it } from 'vitest';
import { memoryReadModel } from './memory-read-model';

describe('memoryReadModel', () => {
  it('rebuilds into a new instance and swaps it in by reference on commit', async () => {
    const model = memoryReadModel(() => new Map<string, number>());
    const first = model.current();
    first.set('a', 1);
    const next = await model.beginRebuild();
    next.set('b', 2);
    expect(model.current()).toBe(first);
    expect(model.live).toBe(first);
    await model.commitRebuild(next);
    expect(model.current()).toBe(next);
    expect(model.live).toBe(next);
    expect([...model.current().keys()]).toEqual(['b']);
  });

  it('leaves the live instance in place when a rebuild is aborted', async () => {
    const model = memoryReadModel(() => [] as string[]);
    const live = model.current();
    const next = await model.beginRebuild();
    await model.abortRebuild?.(next);
    expect(model.current()).toBe(live);
  });
});

import { afterEach, describe, expect, it, vi } from 'vitest';
import { InvalidOptionError } from '../errors';
import { memoryIdempotencyStore } from './memory-idempotency-store';

describe('memoryIdempotencyStore()', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('claims a free key once, reports busy while held and done once completed', async () => {
    const store = memoryIdempotencyStore();
    const outcomes = await Promise.all([store.claim('k', 1_000), store.claim('k', 1_000)]);
    expect(outcomes.sort()).toEqual(['busy', 'claimed']);
    await store.complete('k', 1_000);
    expect(await store.claim('k', 1_000)).toBe('done');
  });

  it('frees a released key, but release does not forget a done key', async () => {
    const store = memoryIdempotencyStore();
    await store.claim('a', 1_000);
    await store.release('a');
    expect(await store.claim('a', 1_000)).toBe('claimed');
    await store.complete('a', 1_000);
    await store.release('a');
    expect(await store.claim('a', 1_000)).toBe('done');
  });

  it('expires claims and done marks after their ttl', async () => {
    vi.useFakeTimers();
    const store = memoryIdempotencyStore();
    await store.claim('crashed', 100);
    await store.claim('handled', 100);
    await store.complete('handled', 500);
    vi.advanceTimersByTime(100);
    expect(await store.claim('crashed', 100)).toBe('claimed');
    expect(await store.claim('handled', 100)).toBe('done');
    vi.advanceTimersByTime(400);
    expect(await store.claim('handled', 100)).toBe('claimed');
  });

  it('stays within maxEntries by dropping the oldest keys', async () => {
    const store = memoryIdempotencyStore({ maxEntries: 2 });
    for (const key of ['a', 'b', 'c']) await store.complete(key, 60_000);
    expect(await store.claim('c', 60_000)).toBe('done');
    expect(await store.claim('b', 60_000)).toBe('done');
    expect(await store.claim('a', 60_000)).toBe('claimed'); // forgotten: 'a' was the oldest
  });

  it('validates maxEntries', () => {
    expect(() => memoryIdempotencyStore({ maxEntries: 0 })).toThrow(InvalidOptionError);
    expect(() => memoryIdempotencyStore({ maxEntries: 1.5 })).toThrow(/maxEntries/);
  });
});

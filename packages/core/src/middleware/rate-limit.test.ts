import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { consumeContext, countingNext, publishContext } from '../../test/fixtures/middleware-context';
import { InvalidOptionError, RelaybusError } from '../errors';
import { rateLimit } from './rate-limit';

describe('rateLimit()', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('lets a burst through, then one event per 1/perSecond, in arrival order', async () => {
    const mw = rateLimit({ perSecond: 10, burst: 2 });
    const order: number[] = [];
    const runs = [1, 2, 3, 4].map((n) =>
      mw.consume?.(consumeContext(), async () => {
        order.push(n);
      }),
    );
    await vi.advanceTimersByTimeAsync(0);
    expect(order).toEqual([1, 2]);
    await vi.advanceTimersByTimeAsync(99);
    expect(order).toEqual([1, 2]);
    await vi.advanceTimersByTimeAsync(1);
    expect(order).toEqual([1, 2, 3]);
    await vi.advanceTimersByTimeAsync(100);
    expect(order).toEqual([1, 2, 3, 4]);
    await Promise.all(runs);
  });

  it('limits only the configured side', async () => {
    const consumeOnly = rateLimit({ perSecond: 1 });
    expect(consumeOnly.publish).toBeUndefined();
    const publishOnly = rateLimit({ perSecond: 1, burst: 1, side: 'publish' });
    expect(publishOnly.consume).toBeUndefined();
    const next = countingNext();
    await publishOnly.publish?.(publishContext(), next);
    const second = publishOnly.publish?.(publishContext(), next);
    await vi.advanceTimersByTimeAsync(999);
    expect(next.calls()).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    await second;
    expect(next.calls()).toBe(2);
  });

  it('shares one bucket between publish and consume with side both', async () => {
    const mw = rateLimit({ perSecond: 1, burst: 1, side: 'both' });
    const next = countingNext();
    await mw.publish?.(publishContext(), next);
    const handled = mw.consume?.(consumeContext(), next);
    await vi.advanceTimersByTimeAsync(500);
    expect(next.calls()).toBe(1);
    await vi.advanceTimersByTimeAsync(500);
    await handled;
    expect(next.calls()).toBe(2);
  });

  it('rejects a waiting handler with the abort reason and lets the next waiter have its token', async () => {
    const mw = rateLimit({ perSecond: 1, burst: 1 });
    const next = countingNext();
    await mw.consume?.(consumeContext(), next);
    const controller = new AbortController();
    const aborted = mw.consume?.(consumeContext({ controller }), next);
    const after = mw.consume?.(consumeContext(), next);
    const reason = new Error('shutting down');
    controller.abort(reason);
    await expect(aborted).rejects.toBe(reason);
    await vi.advanceTimersByTimeAsync(1_000);
    await after;
    expect(next.calls()).toBe(2);
  });

  it('rejects at once when the signal is already aborted', async () => {
    const mw = rateLimit({ perSecond: 1, burst: 1 });
    await mw.consume?.(consumeContext(), countingNext());
    const controller = new AbortController();
    controller.abort(new Error('gone'));
    await expect(mw.consume?.(consumeContext({ controller }), countingNext())).rejects.toThrow('gone');
  });

  it('fails fast with RATE_LIMITED once maxWaiting calls wait', async () => {
    const mw = rateLimit({ perSecond: 1, burst: 1, maxWaiting: 1 });
    const next = countingNext();
    await mw.consume?.(consumeContext(), next);
    const waiting = mw.consume?.(consumeContext(), next);
    await expect(mw.consume?.(consumeContext(), next)).rejects.toSatisfy(
      (error) => error instanceof RelaybusError && error.code === 'RATE_LIMITED',
    );
    await vi.advanceTimersByTimeAsync(1_000);
    await waiting;
    expect(next.calls()).toBe(2);
  });

  it('validates its options', () => {
    expect(() => rateLimit({} as never)).toThrow(/perSecond/);
    expect(() => rateLimit({ perSecond: 0 })).toThrow(InvalidOptionError);
    expect(() => rateLimit({ perSecond: 1, burst: -1 })).toThrow(/burst/);
    expect(() => rateLimit({ perSecond: 1, maxWaiting: 0 })).toThrow(/maxWaiting/);
    expect(() => rateLimit({ perSecond: 1, side: 'sideways' as never })).toThrow(/side/);
  });
});

import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../errors';
import { resolveRetry } from './retry';

const noJitter = { jitter: 'none' } as const;

describe('resolveRetry', () => {
  it('grows exponentially up to the cap, with the bus defaults', () => {
    const policy = resolveRetry('test', { backoff: noJitter });
    expect(policy.attempts).toBe(5);
    expect([1, 2, 3].map((attempt) => policy.delayMs(attempt, new Error('x')))).toEqual([200, 400, 800]);
  });

  it('takes a component its own defaults, replaced field by field by the caller', () => {
    const defaults = {
      attempts: 10,
      backoff: { initialDelayMs: 250, maxDelayMs: 10_000, jitter: 'none' },
    } as const;
    const policy = resolveRetry('relay', { backoff: { maxDelayMs: 600 } }, defaults);
    expect(policy.attempts).toBe(10);
    expect([1, 2, 3].map((attempt) => policy.delayMs(attempt, new Error('x')))).toEqual([250, 500, 600]);
    expect(resolveRetry('relay', { backoff: () => 7 }, defaults).delayMs(1, new Error('x'))).toBe(7);
  });

  it('names the option at fault', () => {
    expect(() => resolveRetry('relay', { attempts: 0 })).toThrow(InvalidOptionError);
    expect(() => resolveRetry('relay', { backoff: { initialDelayMs: 500, maxDelayMs: 100 } })).toThrow(
      /retry\.backoff\.maxDelayMs.*must be >= initialDelayMs/,
    );
  });
});

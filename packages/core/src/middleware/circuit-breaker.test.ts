import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  consumeContext,
  countingNext,
  recordingLogger,
  testEnvelope,
} from '../../test/fixtures/middleware-context';
import { CircuitOpenError, InvalidOptionError, NonRetryableError } from '../errors';
import { circuitBreaker } from './circuit-breaker';

const failing = () => Promise.reject(new Error('dependency down'));

describe('circuitBreaker()', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('opens after failureThreshold consecutive failures and then rejects without calling the handler', async () => {
    const breaker = circuitBreaker({ failureThreshold: 3, resetTimeoutMs: 10_000 });
    const logger = recordingLogger();
    for (let i = 0; i < 3; i++) {
      await expect(breaker.consume?.(consumeContext({ logger }), failing)).rejects.toThrow('dependency down');
    }
    expect(breaker.state('workers')).toBe('open');
    expect(logger.entries).toMatchObject([{ level: 'warn', fields: { circuit: 'workers' } }]);
    vi.advanceTimersByTime(4_000);
    const next = countingNext();
    const rejected = breaker.consume?.(consumeContext(), next);
    await expect(rejected).rejects.toBeInstanceOf(CircuitOpenError);
    await expect(rejected).rejects.toMatchObject({ code: 'CIRCUIT_OPEN', retryAfterMs: 6_000 });
    expect(next.calls()).toBe(0);
  });

  it('resets the count on a success, so only consecutive failures open it', async () => {
    const breaker = circuitBreaker({ failureThreshold: 2 });
    await expect(breaker.consume?.(consumeContext(), failing)).rejects.toThrow();
    await breaker.consume?.(consumeContext(), countingNext());
    await expect(breaker.consume?.(consumeContext(), failing)).rejects.toThrow();
    expect(breaker.state('workers')).toBe('closed');
  });

  it('counts only failures within windowMs of each other', async () => {
    const breaker = circuitBreaker({ failureThreshold: 2, windowMs: 1_000 });
    await expect(breaker.consume?.(consumeContext(), failing)).rejects.toThrow();
    vi.advanceTimersByTime(1_500);
    await expect(breaker.consume?.(consumeContext(), failing)).rejects.toThrow();
    expect(breaker.state('workers')).toBe('closed');
    vi.advanceTimersByTime(500);
    await expect(breaker.consume?.(consumeContext(), failing)).rejects.toThrow();
    expect(breaker.state('workers')).toBe('open');
  });

  it('half-opens after resetTimeoutMs: one trial at a time, a success closes it', async () => {
    const breaker = circuitBreaker({ failureThreshold: 1, resetTimeoutMs: 1_000 });
    await expect(breaker.consume?.(consumeContext(), failing)).rejects.toThrow();
    vi.advanceTimersByTime(1_000);
    expect(breaker.state('workers')).toBe('half-open');
    let finishTrial = () => {};
    const logger = recordingLogger();
    const trial = breaker.consume?.(
      consumeContext({ logger }),
      () => new Promise<void>((r) => (finishTrial = r)),
    );
    await expect(breaker.consume?.(consumeContext(), countingNext())).rejects.toBeInstanceOf(
      CircuitOpenError,
    );
    finishTrial();
    await trial;
    expect(breaker.state('workers')).toBe('closed');
    expect(logger.entries).toMatchObject([{ level: 'info', fields: { circuit: 'workers' } }]);
    const next = countingNext();
    await breaker.consume?.(consumeContext(), next);
    expect(next.calls()).toBe(1);
  });

  it('reopens when the trial fails', async () => {
    const breaker = circuitBreaker({ failureThreshold: 1, resetTimeoutMs: 1_000 });
    await expect(breaker.consume?.(consumeContext(), failing)).rejects.toThrow();
    vi.advanceTimersByTime(1_000);
    await expect(breaker.consume?.(consumeContext(), failing)).rejects.toThrow('dependency down');
    expect(breaker.state('workers')).toBe('open');
    await expect(breaker.consume?.(consumeContext(), countingNext())).rejects.toMatchObject({
      retryAfterMs: 1_000,
    });
  });

  it('keeps one circuit per subscription, or per subscription and event type', async () => {
    const perSubscription = circuitBreaker({ failureThreshold: 1 });
    await expect(
      perSubscription.consume?.(consumeContext({ subscription: 'mailer' }), failing),
    ).rejects.toThrow();
    await perSubscription.consume?.(consumeContext({ subscription: 'audit' }), countingNext());
    expect(perSubscription.state()).toEqual({ mailer: 'open', audit: 'closed' });
    expect(perSubscription.state('unknown')).toBe('closed');

    const perType = circuitBreaker({ failureThreshold: 1, perEventType: true });
    const other = testEnvelope({ type: 'test.other' });
    await expect(
      perType.consume?.(consumeContext({ subscription: 'mailer', envelope: other }), failing),
    ).rejects.toThrow();
    await perType.consume?.(consumeContext({ subscription: 'mailer' }), countingNext());
    expect(perType.state('mailer', 'test.other')).toBe('open');
    expect(perType.state('mailer', 'test.happened')).toBe('closed');
    expect(perType.state()).toEqual({ 'mailer:test.other': 'open', 'mailer:test.happened': 'closed' });
  });

  it('does not count errors that blame the event rather than the dependency', async () => {
    const breaker = circuitBreaker({ failureThreshold: 1 });
    await expect(
      breaker.consume?.(consumeContext(), () => Promise.reject(new NonRetryableError('bad'))),
    ).rejects.toThrow();
    expect(breaker.state('workers')).toBe('closed');
    const custom = circuitBreaker({ failureThreshold: 1, isFailure: (e) => e instanceof TypeError });
    await expect(custom.consume?.(consumeContext(), failing)).rejects.toThrow();
    expect(custom.state('workers')).toBe('closed');
  });

  it('validates its options', () => {
    expect(() => circuitBreaker({ failureThreshold: 0 })).toThrow(InvalidOptionError);
    expect(() => circuitBreaker({ resetTimeoutMs: -1 })).toThrow(/resetTimeoutMs/);
    expect(() => circuitBreaker({ windowMs: 0 })).toThrow(/windowMs/);
    expect(() => circuitBreaker({ halfOpenMaxCalls: 1.5 })).toThrow(/halfOpenMaxCalls/);
    expect(() => circuitBreaker({ isFailure: true as never })).toThrow(/isFailure/);
  });
});

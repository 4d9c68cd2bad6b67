import { describe, expect, it } from 'vitest';
import {
  consumeContext,
  countingNext,
  recordingLogger,
  testEnvelope,
} from '../../test/fixtures/middleware-context';
import { InvalidOptionError, RelaybusError } from '../errors';
import { idempotency } from './idempotency';
import type { IdempotencyStore } from './idempotency-store';
import { memoryIdempotencyStore } from './memory-idempotency-store';

describe('idempotency()', () => {
  it('handles an event once per subscription and skips its redeliveries', async () => {
    const mw = idempotency();
    const envelope = testEnvelope();
    const next = countingNext();
    const logger = recordingLogger();
    await mw.consume?.(consumeContext({ envelope }), next);
    await mw.consume?.(consumeContext({ envelope, attempt: 2, logger }), next);
    expect(next.calls()).toBe(1);
    expect(logger.entries).toMatchObject([
      { level: 'debug', fields: { id: envelope.id, key: `workers:${envelope.id}` } },
    ]);
    await mw.consume?.(consumeContext({ envelope, subscription: 'audit' }), next);
    expect(next.calls()).toBe(2);
  });

  it('fails a concurrent delivery of the same event with a retryable error', async () => {
    const mw = idempotency();
    const envelope = testEnvelope();
    let finish = () => {};
    const first = mw.consume?.(
      consumeContext({ envelope }),
      () => new Promise<void>((resolve) => (finish = resolve)),
    );
    await Promise.resolve();
    const second = mw.consume?.(consumeContext({ envelope }), countingNext());
    await expect(second).rejects.toBeInstanceOf(RelaybusError);
    await expect(second).rejects.toThrow(/being handled by another delivery/);
    finish();
    await first;
  });

  it('releases the key when the handler fails, so the retry runs', async () => {
    const mw = idempotency();
    const envelope = testEnvelope();
    const boom = new Error('boom');
    await expect(mw.consume?.(consumeContext({ envelope }), () => Promise.reject(boom))).rejects.toBe(boom);
    const next = countingNext();
    await mw.consume?.(consumeContext({ envelope, attempt: 2 }), next);
    expect(next.calls()).toBe(1);
  });

  it('uses a custom key and passes the ttls to the store', async () => {
    const calls: string[] = [];
    const inner = memoryIdempotencyStore();
    const store: IdempotencyStore = {
      claim: (key, ttlMs) => {
        calls.push(`claim ${key} ${ttlMs}`);
        return inner.claim(key, ttlMs);
      },
      complete: (key, ttlMs) => {
        calls.push(`complete ${key} ${ttlMs}`);
        return inner.complete(key, ttlMs);
      },
      release: (key) => inner.release(key),
    };
    const mw = idempotency({
      store,
      key: (ctx) => `order:${ctx.envelope.subject}`,
      ttlMs: 5_000,
      claimTtlMs: 500,
    });
    await mw.consume?.(consumeContext({ envelope: testEnvelope({ subject: 'o-1' }) }), countingNext());
    const next = countingNext();
    await mw.consume?.(consumeContext({ envelope: testEnvelope({ subject: 'o-1' }) }), next);
    expect(next.calls()).toBe(0);
    expect(calls).toEqual(['claim order:o-1 500', 'complete order:o-1 5000', 'claim order:o-1 500']);
  });

  it('does not fail a handled event when the store cannot record it', async () => {
    const logger = recordingLogger();
    const store: IdempotencyStore = {
      claim: async () => 'claimed',
      complete: async () => {
        throw new Error('store down');
      },
      release: async () => {},
    };
    await idempotency({ store }).consume?.(consumeContext({ logger }), countingNext());
    expect(logger.entries).toMatchObject([{ level: 'warn' }]);
  });

  it('validates its options', () => {
    expect(() => idempotency({ ttlMs: 0 })).toThrow(InvalidOptionError);
    expect(() => idempotency({ claimTtlMs: Number.NaN })).toThrow(/claimTtlMs/);
    expect(() => idempotency({ store: {} as IdempotencyStore })).toThrow(/store/);
    expect(() => idempotency({ key: 'id' as never })).toThrow(/key/);
  });
});

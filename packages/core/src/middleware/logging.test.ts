import { describe, expect, it } from 'vitest';
import {
  consumeContext,
  countingNext,
  publishContext,
  recordingLogger,
} from '../../test/fixtures/middleware-context';
import { InvalidOptionError } from '../errors';
import { logging } from './logging';

describe('logging()', () => {
  it('logs a publish at debug on the bus logger', async () => {
    const logger = recordingLogger();
    const ctx = publishContext({ logger });
    const next = countingNext();
    await logging().publish?.(ctx, next);
    expect(next.calls()).toBe(1);
    expect(logger.entries).toEqual([
      {
        level: 'debug',
        message: 'published',
        fields: { id: ctx.envelope.id, type: 'test.happened', durationMs: expect.any(Number) },
      },
    ]);
  });

  it('logs a handled event with its duration, subscription, group and attempt', async () => {
    const logger = recordingLogger();
    const ctx = consumeContext({ logger, attempt: 2 });
    await logging().consume?.(ctx, countingNext());
    expect(logger.entries).toEqual([
      {
        level: 'debug',
        message: 'handled',
        fields: {
          id: ctx.envelope.id,
          type: 'test.happened',
          subscription: 'workers',
          group: 'workers',
          attempt: 2,
          durationMs: expect.any(Number),
        },
      },
    ]);
  });

  it('logs a failure as warn with the error and rethrows it unchanged', async () => {
    const logger = recordingLogger();
    const ctx = consumeContext({ logger, attempt: 3 });
    const boom = new Error('boom');
    await expect(logging().consume?.(ctx, () => Promise.reject(boom))).rejects.toBe(boom);
    expect(logger.entries).toHaveLength(1);
    expect(logger.entries[0]).toMatchObject({
      level: 'warn',
      message: 'handler failed',
      fields: { attempt: 3, group: 'workers', error: boom },
    });
  });

  it('logs a failed publish as warn and rethrows', async () => {
    const logger = recordingLogger();
    const boom = new Error('transport down');
    await expect(logging().publish?.(publishContext({ logger }), () => Promise.reject(boom))).rejects.toBe(
      boom,
    );
    expect(logger.entries[0]).toMatchObject({
      level: 'warn',
      message: 'publish failed',
      fields: { error: boom },
    });
  });

  it('writes to its own logger at the configured levels, and not at all when off', async () => {
    const own = recordingLogger();
    const busLogger = recordingLogger();
    const mw = logging({ logger: own, handledLevel: 'info', failedLevel: 'error', publishedLevel: 'off' });
    await mw.publish?.(publishContext({ logger: busLogger }), countingNext());
    await mw.consume?.(consumeContext({ logger: busLogger }), countingNext());
    await expect(
      mw.consume?.(consumeContext({ logger: busLogger }), () => Promise.reject(new Error('x'))),
    ).rejects.toThrow('x');
    expect(busLogger.entries).toEqual([]);
    expect(own.entries.map((e) => [e.level, e.message])).toEqual([
      ['info', 'handled'],
      ['error', 'handler failed'],
    ]);
  });

  it('rejects unknown levels and incomplete loggers', () => {
    expect(() => logging({ handledLevel: 'loud' as never })).toThrow(InvalidOptionError);
    expect(() => logging({ logger: { debug: () => {} } as never })).toThrow(/logger/);
  });
});

import { describe, expect, it } from 'vitest';
import {
  consumeContext,
  countingNext,
  publishContext,
  recordingLogger,
  testEnvelope,
} from '../../test/fixtures/middleware-context';
import { InvalidOptionError } from '../errors';
import { filter } from './filter';

const acmeOnly = filter((event) => event.metadata['tenant'] === 'acme', { reason: 'other tenant' });

describe('filter()', () => {
  it('passes kept events on and drops the others on consume, logging the reason', async () => {
    const next = countingNext();
    await acmeOnly.consume?.(
      consumeContext({ envelope: testEnvelope({ metadata: { tenant: 'acme' } }) }),
      next,
    );
    const logger = recordingLogger();
    const dropped = testEnvelope({ metadata: { tenant: 'other' } });
    await acmeOnly.consume?.(consumeContext({ envelope: dropped, logger }), next);
    expect(next.calls()).toBe(1);
    expect(logger.entries).toEqual([
      {
        level: 'debug',
        message: 'event dropped on consume by filter',
        fields: { id: dropped.id, type: 'test.happened', reason: 'other tenant' },
      },
    ]);
  });

  it('filters on consume only by default, and on publish when asked', async () => {
    expect(acmeOnly.publish).toBeUndefined();
    const mw = filter(() => false, { side: 'publish', name: 'drop-all' });
    expect(mw.name).toBe('drop-all');
    expect(mw.consume).toBeUndefined();
    const next = countingNext();
    await mw.publish?.(publishContext(), next);
    expect(next.calls()).toBe(0);
  });

  it('gives the predicate the context, so it can tell the sides apart', async () => {
    const seen: string[] = [];
    const mw = filter(
      (_event, ctx) => {
        seen.push('attempt' in ctx ? `consume ${ctx.attempt}` : 'publish');
        return true;
      },
      { side: 'both' },
    );
    await mw.publish?.(publishContext(), countingNext());
    await mw.consume?.(consumeContext({ attempt: 2 }), countingNext());
    expect(seen).toEqual(['publish', 'consume 2']);
  });

  it('validates its arguments', () => {
    expect(() => filter('tenant' as never)).toThrow(InvalidOptionError);
    expect(() => filter(() => true, { side: 'left' as never })).toThrow(/side/);
  });
});

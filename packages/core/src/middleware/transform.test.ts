import { describe, expect, it } from 'vitest';
import { consumeContext, publishContext } from '../../test/fixtures/middleware-context';
import { InvalidEnvelopeError, InvalidOptionError } from '../errors';
import type { Envelope } from '../events/envelope';
import { transform } from './transform';

const stampRegion = transform((event) => ({ ...event, metadata: { ...event.metadata, region: 'eu' } }));

describe('transform()', () => {
  it('replaces the envelope before the rest of the publish chain runs', async () => {
    const ctx = publishContext();
    let sent: Envelope | undefined;
    await stampRegion.publish?.(ctx, async () => {
      sent = ctx.envelope;
    });
    expect(sent?.metadata).toEqual({ region: 'eu' });
    expect(ctx.envelope).toBe(sent);
    expect(stampRegion.consume).toBeUndefined();
  });

  it('awaits an async transform on the consume side', async () => {
    const mw = transform(async (event) => ({ ...event, subject: 'from-lookup' }), {
      side: 'consume',
      name: 'lookup',
    });
    expect(mw.name).toBe('lookup');
    expect(mw.publish).toBeUndefined();
    const ctx = consumeContext();
    await mw.consume?.(ctx, async () => {});
    expect(ctx.envelope.subject).toBe('from-lookup');
  });

  it('rejects a result that is not an envelope of the same type, without calling next', async () => {
    let called = false;
    const next = async () => {
      called = true;
    };
    const retype = transform((event) => ({ ...event, type: 'other.type' }));
    await expect(retype.publish?.(publishContext(), next)).rejects.toThrow(InvalidEnvelopeError);
    const nothing = transform(() => undefined as unknown as Envelope);
    await expect(nothing.publish?.(publishContext(), next)).rejects.toThrow(/must return an envelope/);
    expect(called).toBe(false);
  });

  it('validates its arguments', () => {
    expect(() => transform({} as never)).toThrow(InvalidOptionError);
    expect(() => transform((e) => e, { side: 'up' as never })).toThrow(/side/);
  });
});

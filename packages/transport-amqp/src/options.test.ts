import { describe, expect, it } from 'vitest';
import { DEFAULTS, resolveOptions } from './options';

describe('resolveOptions', () => {
  it('applies the defaults', () => {
    expect(resolveOptions({ url: 'amqp://localhost' })).toMatchObject({
      exchange: DEFAULTS.exchange,
      orderedByKey: true,
      deliveryLimit: 20,
      groupExpiresMs: false,
      prefetch: 100,
      maxPayloadBytes: 1_048_576,
    });
  });

  it('takes amqps URLs and an exchange with dots, colons and dashes', () => {
    expect(resolveOptions({ url: 'amqps://h:5671/vhost', exchange: 'app.events:v2-eu' }).exchange).toBe(
      'app.events:v2-eu',
    );
  });
});

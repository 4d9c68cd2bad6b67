import { InvalidOptionError } from '@relaybus/core';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULTS, resolveOptions } from './options';

const redis = new Redis({ lazyConnect: true });
afterAll(() => redis.disconnect());

describe('redisTransport options', () => {
  it('applies defaults', () => {
    const resolved = resolveOptions({ redis });
    expect(resolved).toMatchObject({
      prefix: DEFAULTS.prefix,
      partitions: 8,
      retention: { maxLen: 100_000 },
      maxPayloadBytes: 1_048_576,
    });
  });

  it('names the option at fault', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ partitions: 0 }, 'partitions'],
      [{ blockMs: 1.5 }, 'blockMs'],
      [{ leaseTtlMs: -1 }, 'leaseTtlMs'],
      [{ retention: { maxLen: 0 } }, 'retention.maxLen'],
      [{ retention: { maxLen: 1, minAgeMs: 1 } }, 'retention'],
      [{ connectTimeoutMs: Number.NaN }, 'connectTimeoutMs'],
      [{ prefix: 'a b' }, 'prefix'],
      [{ redis: {} }, 'redis'],
    ];
    for (const [options, option] of cases) {
      let error: unknown;
      try {
        resolveOptions({ redis, ...options } as never);
      } catch (caught) {
        error = caught;
      }
      expect(error, option).toBeInstanceOf(InvalidOptionError);
      expect((error as InvalidOptionError).option).toBe(option);
    }
    expect(resolveOptions({ redis, retention: false }).retention).toBe(false);
  });
});

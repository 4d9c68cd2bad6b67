import { InvalidOptionError } from '@relaybus/core';
import { describe, expect, it } from 'vitest';
import { transportConfigFromEnv } from './transport';

describe('transportConfigFromEnv', () => {
  it('defaults to the memory transport', () => {
    expect(transportConfigFromEnv({})).toEqual({ kind: 'memory', prefix: 'task-manager' });
  });

  it('reads the broker URL of the chosen transport, or the local default', () => {
    expect(transportConfigFromEnv({ RELAYBUS_TRANSPORT: 'nats', NATS_URL: 'nats://10.0.0.5:4222' })).toEqual({
      kind: 'nats',
      url: 'nats://10.0.0.5:4222',
      prefix: 'task-manager',
    });
    expect(transportConfigFromEnv({ RELAYBUS_TRANSPORT: 'amqp' }).url).toBe(
      'amqp://guest:guest@127.0.0.1:5672',
    );
  });

  it('names the variable that is wrong', () => {
    const cases: Array<[NodeJS.ProcessEnv, RegExp]> = [
      [{ RELAYBUS_TRANSPORT: 'kafka' }, /RELAYBUS_TRANSPORT.*memory, redis, amqp, nats.*"kafka"/],
      [{ RELAYBUS_TRANSPORT: 'redis', REDIS_URL: 'http://x' }, /REDIS_URL.*redis: or rediss:/],
      [{ RELAYBUS_TRANSPORT: 'amqp', AMQP_URL: 'not a url' }, /AMQP_URL.*must be a URL/],
      [{ RELAYBUS_PREFIX: 'Has Spaces' }, /RELAYBUS_PREFIX/],
    ];
    for (const [env, message] of cases) {
      expect(() => transportConfigFromEnv(env)).toThrow(InvalidOptionError);
      expect(() => transportConfigFromEnv(env)).toThrow(message);
    }
  });
});

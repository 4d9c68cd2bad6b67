import { describe, expect, it, vi } from 'vitest';
import {
  InvalidOptionError,
  PayloadTooLargeError,
  RelaybusError,
  StoreUnavailableError,
  TransportError,
  TransportUnavailableError,
  ValidationError,
} from './errors';

/** A second copy of the module, as when the ESM and the CJS build (or two versions) are loaded side by side. */
async function secondCopy(): Promise<typeof import('./errors')> {
  vi.resetModules();
  return import('./errors');
}

describe('relaybus errors across copies of the package', () => {
  it('are recognised by instanceof and RelaybusError.is, and only where the class matches', async () => {
    const other = await secondCopy();
    expect(other.RelaybusError).not.toBe(RelaybusError);
    const foreign = new other.ValidationError('task.created', [{ path: ['title'], message: 'Required' }]);
    expect(foreign instanceof ValidationError).toBe(true);
    expect(foreign instanceof RelaybusError).toBe(true);
    expect(foreign instanceof InvalidOptionError).toBe(false);
    expect(foreign instanceof TransportError).toBe(false);
    expect(RelaybusError.is(foreign)).toBe(true);
    expect(RelaybusError.is(foreign, 'VALIDATION_FAILED')).toBe(true);
    expect(RelaybusError.is(foreign, 'CLOSED')).toBe(false);

    const mine = new TransportUnavailableError('redis', '127.0.0.1:6379', 'is not reachable');
    expect(mine instanceof other.TransportError).toBe(true);
    expect(mine instanceof other.TransportUnavailableError).toBe(true);
    expect(mine instanceof other.PayloadTooLargeError).toBe(false);
  });

  it('are not confused with look-alikes', () => {
    const lookAlike = Object.assign(new Error('x'), { name: 'ValidationError', code: 'VALIDATION_FAILED' });
    expect(lookAlike instanceof ValidationError).toBe(false);
    expect(RelaybusError.is(lookAlike)).toBe(false);
    expect(RelaybusError.is(null)).toBe(false);
    expect(RelaybusError.is('VALIDATION_FAILED')).toBe(false);
  });
});

describe('one code per failure mode', () => {
  it('gives unavailability, oversize messages and store outages codes of their own', () => {
    expect(new TransportError('redis', 'ERR something').code).toBe('TRANSPORT_FAILED');
    expect(new TransportUnavailableError('redis', '127.0.0.1:6379', 'is down').code).toBe(
      'TRANSPORT_UNAVAILABLE',
    );
    const tooLarge = new PayloadTooLargeError(
      'redis',
      { id: 'e1', index: 2, sizeBytes: 2_000 },
      1_000,
      'raise maxPayloadBytes',
    );
    expect(tooLarge.code).toBe('PAYLOAD_TOO_LARGE');
    expect(tooLarge.message).toMatch(
      /"e1" \(messages\[2\]\) is 2000 bytes.*limit of 1000.*raise maxPayloadBytes/,
    );
    const down = new StoreUnavailableError('postgres', 'append', '127.0.0.1:5439', 'refused the connection');
    expect(down.code).toBe('STORE_UNAVAILABLE');
    expect(down.message).toBe('postgres append: 127.0.0.1:5439 refused the connection');
  });
});

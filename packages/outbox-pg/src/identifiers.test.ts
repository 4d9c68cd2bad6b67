import { describe, expect, it } from 'vitest';
import {
  checkIdentifier,
  notifyChannel,
  partitionOf,
  quoteIdentifier,
  streamLockKey,
  tablesOf,
} from './identifiers';

describe('identifiers', () => {
  it('accept plain lowercase names up to 63 characters', () => {
    for (const name of ['relaybus', '_x', 'a1_b2', 'a'.repeat(63)])
      expect(checkIdentifier('t', 'schema', name)).toBe(name);
  });

  it('refuse anything that would need quoting, or a reserved prefix, naming the option', () => {
    for (const name of [
      'Relaybus',
      'a-b',
      'a b',
      '1a',
      '',
      'a'.repeat(64),
      'pg_temp',
      'x";--',
      'é',
      null,
      3,
    ]) {
      expect(() => checkIdentifier('migrate()', 'schema', name)).toThrow(
        expect.objectContaining({ name: 'InvalidOptionError', option: 'schema' }),
      );
    }
  });

  it('quote qualified table names', () => {
    expect(quoteIdentifier('a"b')).toBe('"a""b"');
    expect(tablesOf('relaybus').events).toBe('"relaybus"."events"');
  });

  it('keep NOTIFY channel names within 63 bytes, distinct for long schema names', () => {
    expect(notifyChannel('relaybus')).toBe('relaybus_relaybus');
    const long = notifyChannel('a'.repeat(63));
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).not.toBe(notifyChannel(`${'a'.repeat(62)}b`));
    expect(long).toMatch(/^[a-z0-9_]+$/);
  });

  it('spread keys over partitions evenly and stably', () => {
    const counts = new Array<number>(16).fill(0);
    for (let i = 0; i < 16_000; i++) {
      const partition = partitionOf(`task-${i}`, 16);
      counts[partition] = (counts[partition] ?? 0) + 1;
    }
    for (const count of counts) expect(count).toBeGreaterThan(800);
    expect(partitionOf('task-1', 16)).toBe(partitionOf('task-1', 16));
    expect(partitionOf('ünïcødé', 7)).toBeLessThan(7);
  });

  it('key stream locks by schema and stream, as signed 32-bit integers', () => {
    const key = streamLockKey('a', 'task-1');
    expect(Number.isInteger(key) && key >= -(2 ** 31) && key < 2 ** 31).toBe(true);
    expect(key).not.toBe(streamLockKey('b', 'task-1'));
    expect(key).toBe(streamLockKey('a', 'task-1'));
  });
});

import { describe, expect, it } from 'vitest';
import { formatPosition, parsePosition } from './positions';

describe('positions', () => {
  it('are fixed-width, so string order is (epoch, transaction, row) order', () => {
    const positions = [
      formatPosition(1, '9', '100'),
      formatPosition(1, '10', '2'),
      formatPosition(1, '18446744073709551615', '1'),
      formatPosition(2, '3', '101'),
    ];
    expect(positions[0]).toBe('0001.00000000000000000009.00000000000000000100');
    expect([...positions].sort()).toEqual(positions);
  });

  it('parse back to parts Postgres reads as decimal (no leading zeros: xid8 would read them as octal)', () => {
    expect(parsePosition('0001.00000000000000000753.00000000000000000012')).toEqual({
      epoch: 1,
      txId: '753',
      id: '12',
    });
    expect(parsePosition(formatPosition(3, '0', '0'))).toEqual({ epoch: 3, txId: '0', id: '0' });
  });

  it('refuse anything else with InvalidPositionError', () => {
    const bad: unknown[] = [
      'not-a-position',
      '',
      '0000000000000042',
      '1.753.12',
      '0001.00000000000000000753.0000000000000000001',
      '0001.18446744073709551616.00000000000000000001',
      '0001.00000000000000000001.09223372036854775808',
      ' 0001.00000000000000000753.00000000000000000012',
      42,
      undefined,
    ];
    for (const position of bad) {
      expect(() => parsePosition(position), String(position)).toThrow(
        expect.objectContaining({ name: 'InvalidPositionError', code: 'INVALID_POSITION' }),
      );
    }
  });
});

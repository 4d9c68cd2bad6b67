import { describe, expect, it } from 'vitest';
import { delayBucket, Names } from './names';

describe('delayBucket', () => {
  it('rounds up to two significant digits, never below the delay', () => {
    expect([0.2, 1, 99, 100, 200, 201, 1_234, 59_999, 3_600_000].map(delayBucket)).toEqual([
      1, 1, 99, 100, 200, 210, 1_300, 60_000, 3_600_000,
    ]);
    for (let delay = 1; delay < 100_000; delay = Math.ceil(delay * 1.37)) {
      const bucket = delayBucket(delay);
      expect(bucket).toBeGreaterThanOrEqual(delay);
      expect(bucket).toBeLessThanOrEqual(Math.max(delay * 1.1, delay + 1));
    }
  });
});

describe('Names', () => {
  const names = new Names('app.events');

  it('reads the group back from a group queue name, dots and colons included', () => {
    const queue = names.groupQueue('billing.v2:eu', 'task.#', 'ordered');
    expect(queue).toBe('app.events/billing.v2:eu/task.#/ordered');
    expect(names.groupOf(queue)).toBe('billing.v2:eu');
    expect(names.groupOf('other/billing/x/shared')).toBeUndefined();
  });

  it('hashes a selector that would make the name longer than RabbitMQ allows', () => {
    const queue = names.groupQueue('g', 'x'.repeat(300), 'shared');
    expect(Buffer.byteLength(queue)).toBeLessThanOrEqual(255);
    expect(names.groupOf(queue)).toBe('g');
    expect(names.groupQueue('g', 'y'.repeat(300), 'shared')).not.toBe(queue);
  });
});

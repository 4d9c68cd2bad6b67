import { describe, expect, it } from 'vitest';
import { Histogram, leLabels } from './histogram';

describe('Histogram', () => {
  it("puts a value equal to a bound in that bound's bucket, and larger ones in +Inf", () => {
    const h = new Histogram([1, 2]);
    for (const v of [0.5, 1, 1.5, 2, 3]) h.observe(v);
    const out: string[] = [];
    h.write(out, 'x', '', leLabels([1, 2]));
    expect(out).toEqual([
      'x_bucket{le="1"} 2',
      'x_bucket{le="2"} 4',
      'x_bucket{le="+Inf"} 5',
      'x_sum 8',
      'x_count 5',
    ]);
  });

  it('estimates quantiles by interpolation and caps them at the last bound', () => {
    const h = new Histogram([10, 20]);
    expect(h.quantile(0.5)).toBe(0);
    for (let i = 0; i < 4; i++) h.observe(5);
    expect(h.quantile(0.5)).toBe(5); // rank 2 of 4 in (0, 10]
    for (let i = 0; i < 4; i++) h.observe(100);
    expect(h.quantile(0.99)).toBe(20);
  });
});

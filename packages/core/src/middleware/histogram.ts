import { formatValue, sample } from './prometheus-text';

/**
 * A fixed-bucket histogram: counts observations per bucket (upper bounds inclusive, then `+Inf`), their sum and
 * their count. Observing allocates nothing.
 */
export class Histogram {
  private readonly counts: Float64Array;
  /** Sum of every observed value. */
  sum = 0;
  /** How many values were observed. */
  count = 0;

  /** @param bounds - strictly increasing, finite upper bounds, without `+Inf`. */
  constructor(private readonly bounds: ReadonlyArray<number>) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  /** Records one value. */
  observe(value: number): void {
    const { bounds } = this;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] ?? Number.POSITIVE_INFINITY)) i++;
    this.counts[i] = (this.counts[i] ?? 0) + 1;
    this.sum += value;
    this.count++;
  }

  /**
   * Estimates the `q` quantile (0 < q < 1) by linear interpolation inside the bucket that holds it, as
   * Prometheus's `histogram_quantile` does. Values beyond the last bound are reported as that bound; 0 when empty.
   */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = q * this.count;
    let cumulative = 0;
    for (let i = 0; i < this.bounds.length; i++) {
      const inBucket = this.counts[i] ?? 0;
      if (cumulative + inBucket >= rank && inBucket > 0) {
        const lower = i === 0 ? 0 : (this.bounds[i - 1] ?? 0);
        const upper = this.bounds[i] ?? lower;
        return lower + ((upper - lower) * (rank - cumulative)) / inBucket;
      }
      cumulative += inBucket;
    }
    return this.bounds[this.bounds.length - 1] ?? 0;
  }

  /**
   * Writes the `_bucket` (cumulative, `+Inf` last), `_sum` and `_count` lines of one series.
   * @param labels - the series' rendered labels, without `le`.
   * @param les - the rendered `le="..."` label of each bound, `+Inf` last.
   */
  write(out: string[], name: string, labels: string, les: ReadonlyArray<string>): void {
    const prefix = labels === '' ? '' : `${labels},`;
    let cumulative = 0;
    for (let i = 0; i < this.counts.length; i++) {
      cumulative += this.counts[i] ?? 0;
      out.push(`${name}_bucket{${prefix}${les[i] ?? ''}} ${formatValue(cumulative)}`);
    }
    sample(out, `${name}_sum`, labels, this.sum);
    sample(out, `${name}_count`, labels, this.count);
  }
}

/** Renders the `le` label of each bound, with `+Inf` last, for {@link Histogram.write}. */
export function leLabels(bounds: ReadonlyArray<number>): string[] {
  return [...bounds.map((bound) => `le="${formatValue(bound)}"`), 'le="+Inf"'];
}

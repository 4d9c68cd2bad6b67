import { InvalidOptionError } from '../errors';
import { Histogram, leLabels } from './histogram';
import type { MetricsHistogramSummary, MetricsSample } from './metrics-snapshot';
import { header, labelText, METRIC_NAME, sample } from './prometheus-text';

/**
 * A counter registered on the metrics middleware by another component (the job queue, say).
 *
 * @example
 * ```ts
 * const started = m.registerCounter('jobs_started_total', 'Job attempts started.');
 * started.inc({ queue: 'default', type: 'mail:send' });
 * ```
 */
export interface RegisteredCounter {
  /** Adds `by` (default 1) to the series with these labels. */
  inc(labels: Readonly<Record<string, string>>, by?: number): void;
  /** Removes the counter from the registry. */
  remove(): void;
}

/**
 * A histogram (in seconds) registered on the metrics middleware by another component.
 *
 * @example
 * ```ts
 * const duration = m.registerHistogram('job_duration_seconds', 'Time per job attempt.');
 * duration.observe({ queue: 'default', type: 'mail:send' }, 0.25);
 * ```
 */
export interface RegisteredHistogram {
  /** Records one value, in seconds, in the series with these labels. */
  observe(labels: Readonly<Record<string, string>>, seconds: number): void;
  /** Removes the histogram from the registry. */
  remove(): void;
}

interface Series<T> {
  readonly labels: Readonly<Record<string, string>>;
  readonly text: string;
  readonly value: T;
}

type Family =
  | { readonly kind: 'gauge'; readonly help: string; readonly read: () => number }
  | { readonly kind: 'counter'; readonly help: string; readonly series: Map<string, Series<{ n: number }>> }
  | {
      readonly kind: 'histogram';
      readonly help: string;
      readonly buckets: ReadonlyArray<number>;
      readonly les: ReadonlyArray<string>;
      readonly series: Map<string, Series<Histogram>>;
    };

/** Gauges, counters and histograms other components register, under the middleware's prefix. */
export class RegisteredMetrics {
  private readonly families = new Map<string, Family>();

  constructor(
    private readonly prefix: string,
    private readonly taken: (name: string) => boolean,
    private readonly defaultBuckets: ReadonlyArray<number>,
    private readonly summarize: (
      labels: Readonly<Record<string, string>>,
      histogram: Histogram,
    ) => MetricsHistogramSummary,
  ) {}

  gauge(name: string, help: string, read: () => number): () => void {
    if (typeof read !== 'function') {
      throw new InvalidOptionError(
        'metrics().registerGauge()',
        'read',
        'must be a function returning a number',
      );
    }
    return this.register('registerGauge', name, { kind: 'gauge', help: String(help), read });
  }

  counter(name: string, help: string): RegisteredCounter {
    const series = new Map<string, Series<{ n: number }>>();
    const remove = this.register('registerCounter', name, { kind: 'counter', help: String(help), series });
    return {
      inc: (labels, by = 1) => {
        const text = labelText(labels);
        let entry = series.get(text);
        if (entry === undefined) {
          entry = { labels: { ...labels }, text, value: { n: 0 } };
          series.set(text, entry);
        }
        entry.value.n += by;
      },
      remove,
    };
  }

  histogram(
    name: string,
    help: string,
    buckets: ReadonlyArray<number> = this.defaultBuckets,
  ): RegisteredHistogram {
    const series = new Map<string, Series<Histogram>>();
    const remove = this.register('registerHistogram', name, {
      kind: 'histogram',
      help: String(help),
      buckets,
      les: leLabels(buckets),
      series,
    });
    return {
      observe: (labels, seconds) => {
        const text = labelText(labels);
        let entry = series.get(text);
        if (entry === undefined) {
          entry = { labels: { ...labels }, text, value: new Histogram(buckets) };
          series.set(text, entry);
        }
        entry.value.observe(seconds);
      },
      remove,
    };
  }

  /** Gauge values by full name (a gauge whose `read()` throws is left out). */
  gauges(): Record<string, number> {
    const values: Record<string, number> = {};
    for (const [name, family] of this.families) {
      if (family.kind !== 'gauge') continue;
      const value = readGauge(family.read);
      if (value !== undefined) values[name] = value;
    }
    return values;
  }

  /** Counter samples by full name. */
  counters(): Record<string, MetricsSample[]> {
    const out: Record<string, MetricsSample[]> = {};
    for (const [name, family] of this.families) {
      if (family.kind === 'counter')
        out[name] = [...family.series.values()].map((s) => ({ labels: s.labels, value: s.value.n }));
    }
    return out;
  }

  /** Histogram summaries by full name. */
  histograms(): Record<string, MetricsHistogramSummary[]> {
    const out: Record<string, MetricsHistogramSummary[]> = {};
    for (const [name, family] of this.families) {
      if (family.kind === 'histogram')
        out[name] = [...family.series.values()].map((s) => this.summarize(s.labels, s.value));
    }
    return out;
  }

  /** Appends every registered family in the Prometheus text format. */
  write(out: string[]): void {
    for (const [name, family] of this.families) {
      if (family.kind === 'gauge') {
        const value = readGauge(family.read);
        if (value === undefined) continue;
        header(out, name, family.help, 'gauge');
        sample(out, name, '', value);
      } else if (family.kind === 'counter') {
        header(out, name, family.help, 'counter');
        for (const s of family.series.values()) sample(out, name, s.text, s.value.n);
      } else {
        header(out, name, family.help, 'histogram');
        for (const s of family.series.values()) s.value.write(out, name, s.text, family.les);
      }
    }
  }

  private register(method: string, name: string, family: Family): () => void {
    const where = `metrics().${method}()`;
    const full = `${this.prefix}${name}`;
    if (typeof name !== 'string' || !METRIC_NAME.test(full)) {
      throw new InvalidOptionError(
        where,
        'name',
        `must make a valid Prometheus metric name, got ${String(name)}`,
      );
    }
    if (this.taken(full) || this.families.has(full)) {
      throw new InvalidOptionError(where, 'name', `"${full}" is already registered; pick another name`);
    }
    this.families.set(full, family);
    return () => {
      if (this.families.get(full) === family) this.families.delete(full);
    };
  }
}

function readGauge(read: () => number): number | undefined {
  try {
    const value = read();
    return typeof value === 'number' ? value : undefined;
  } catch {
    // A broken gauge must not break the scrape or the snapshot of everything else.
    return undefined;
  }
}

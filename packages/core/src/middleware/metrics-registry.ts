import { Histogram, leLabels } from './histogram';
import type { MetricsHistogramSummary, MetricsSample, MetricsSnapshot } from './metrics-snapshot';
import { header, labelText, sample } from './prometheus-text';
import { RegisteredMetrics } from './registered-metrics';

const QUANTILES = { p50: 0.5, p90: 0.9, p99: 0.99 } as const;

/** One counter series with its labels rendered once. */
export interface CounterSeries {
  readonly labels: Readonly<Record<string, string>>;
  readonly text: string;
  value: number;
}

/** The series of one published event type. */
export interface PublisherSeries {
  readonly published: CounterSeries;
  readonly failed: Map<string, CounterSeries>;
}

/** The series of one event type in one consumer group. */
export interface ConsumerSeries {
  readonly labels: Readonly<Record<string, string>>;
  readonly text: string;
  readonly handled: CounterSeries;
  readonly failed: Map<string, CounterSeries>;
  readonly duration: Histogram;
  readonly latency: Histogram;
}

/**
 * Holds the series the metrics middleware updates, keyed by event type and consumer group (then error code), and
 * renders them as a snapshot or as Prometheus text.
 */
export class MetricsRegistry {
  private readonly names: {
    readonly published: string;
    readonly publishFailed: string;
    readonly handled: string;
    readonly failed: string;
    readonly duration: string;
    readonly latency: string;
  };
  private readonly publishers = new Map<string, PublisherSeries>();
  private readonly consumers = new Map<string, Map<string, ConsumerSeries>>();
  /** Gauges, counters and histograms other components registered. */
  readonly registered: RegisteredMetrics;
  private readonly durationLes: ReadonlyArray<string>;
  private readonly latencyLes: ReadonlyArray<string>;

  constructor(
    prefix: string,
    private readonly durationBuckets: ReadonlyArray<number>,
    private readonly latencyBuckets: ReadonlyArray<number>,
  ) {
    this.names = {
      published: `${prefix}published_total`,
      publishFailed: `${prefix}publish_failed_total`,
      handled: `${prefix}handled_total`,
      failed: `${prefix}failed_total`,
      duration: `${prefix}handler_duration_seconds`,
      latency: `${prefix}end_to_end_latency_seconds`,
    };
    this.durationLes = leLabels(durationBuckets);
    this.latencyLes = leLabels(latencyBuckets);
    const builtIn = new Set(Object.values(this.names));
    this.registered = new RegisteredMetrics(prefix, (name) => builtIn.has(name), durationBuckets, summary);
  }

  /** The series of a published event type, created on first use. */
  publisher(type: string): PublisherSeries {
    let series = this.publishers.get(type);
    if (series === undefined) {
      series = { published: counter({ type }), failed: new Map() };
      this.publishers.set(type, series);
    }
    return series;
  }

  /** The series of an event type in a consumer group (`''` without a group), created on first use. */
  consumer(type: string, group: string | undefined): ConsumerSeries {
    let byGroup = this.consumers.get(type);
    if (byGroup === undefined) {
      byGroup = new Map();
      this.consumers.set(type, byGroup);
    }
    const groupLabel = group ?? '';
    let series = byGroup.get(groupLabel);
    if (series === undefined) {
      const labels = { type, group: groupLabel };
      series = {
        labels,
        text: labelText(labels),
        handled: counter(labels),
        failed: new Map(),
        duration: new Histogram(this.durationBuckets),
        latency: new Histogram(this.latencyBuckets),
      };
      byGroup.set(groupLabel, series);
    }
    return series;
  }

  /** Counts one failure in `byCode` under the error's code; `labels` are the owning series' labels. */
  countFailure(
    byCode: Map<string, CounterSeries>,
    labels: Readonly<Record<string, string>>,
    error: unknown,
  ): void {
    const code = errorCode(error);
    let series = byCode.get(code);
    if (series === undefined) {
      series = counter({ ...labels, code });
      byCode.set(code, series);
    }
    series.value++;
  }

  /** Every metric as plain data. */
  snapshot(): MetricsSnapshot {
    const consumers = [...this.allConsumers()];
    const publishers = [...this.publishers.values()];
    return {
      published: publishers.map((s) => counterSample(s.published)),
      publishFailed: publishers.flatMap((s) => [...s.failed.values()].map(counterSample)),
      handled: consumers.map((s) => counterSample(s.handled)),
      failed: consumers.flatMap((s) => [...s.failed.values()].map(counterSample)),
      handlerDurationSeconds: consumers.map((s) => summary(s.labels, s.duration)),
      endToEndLatencySeconds: consumers.map((s) => summary(s.labels, s.latency)),
      gauges: this.registered.gauges(),
      counters: this.registered.counters(),
      histograms: this.registered.histograms(),
    };
  }

  /** Every metric in the Prometheus text exposition format 0.0.4. */
  prometheus(): string {
    const { names } = this;
    const out: string[] = [];
    header(out, names.published, 'Events published, by type.', 'counter');
    for (const s of this.publishers.values())
      sample(out, names.published, s.published.text, s.published.value);
    header(out, names.publishFailed, 'Publishes that failed, by type and error code.', 'counter');
    for (const s of this.publishers.values()) {
      for (const c of s.failed.values()) sample(out, names.publishFailed, c.text, c.value);
    }
    header(out, names.handled, 'Events handled successfully, by type and consumer group.', 'counter');
    for (const s of this.allConsumers()) sample(out, names.handled, s.text, s.handled.value);
    header(out, names.failed, 'Failed handler attempts, by type, consumer group and error code.', 'counter');
    for (const s of this.allConsumers()) {
      for (const c of s.failed.values()) sample(out, names.failed, c.text, c.value);
    }
    header(out, names.duration, 'Time in the consume chain per attempt, failed ones included.', 'histogram');
    for (const s of this.allConsumers()) s.duration.write(out, names.duration, s.text, this.durationLes);
    header(
      out,
      names.latency,
      'Time from event creation to the end of its successful handling.',
      'histogram',
    );
    for (const s of this.allConsumers()) s.latency.write(out, names.latency, s.text, this.latencyLes);
    this.registered.write(out);
    return `${out.join('\n')}\n`;
  }

  private *allConsumers(): Generator<ConsumerSeries> {
    for (const byGroup of this.consumers.values()) yield* byGroup.values();
  }
}

function counter(labels: Readonly<Record<string, string>>): CounterSeries {
  return { labels, text: labelText(labels), value: 0 };
}

/** The error's string `code` (relaybus codes, Node's `ECONNREFUSED`), else its class name. */
function errorCode(error: unknown): string {
  if (typeof error !== 'object' || error === null) return typeof error;
  const { code, name } = error as { code?: unknown; name?: unknown };
  if (typeof code === 'string' && code !== '') return code;
  return typeof name === 'string' && name !== '' ? name : 'Error';
}

function counterSample(series: CounterSeries): MetricsSample {
  return { labels: series.labels, value: series.value };
}

function summary(labels: Readonly<Record<string, string>>, histogram: Histogram): MetricsHistogramSummary {
  return {
    labels,
    count: histogram.count,
    sum: histogram.sum,
    p50: histogram.quantile(QUANTILES.p50),
    p90: histogram.quantile(QUANTILES.p90),
    p99: histogram.quantile(QUANTILES.p99),
  };
}

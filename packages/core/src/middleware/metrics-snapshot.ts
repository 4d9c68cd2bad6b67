/**
 * The value of one counter or gauge series and its labels.
 *
 * @example
 * ```ts
 * const sample: MetricsSample = { labels: { type: 'task.created' }, value: 3 };
 * ```
 */
export interface MetricsSample {
  /** Label names and values (`group` is `''` for subscriptions without a group). */
  readonly labels: Readonly<Record<string, string>>;
  /** The current value. */
  readonly value: number;
}

/**
 * One histogram series: its count, sum and quantiles estimated from the buckets (in seconds).
 *
 * @example
 * ```ts
 * const slowest = m.snapshot().handlerDurationSeconds.sort((a, b) => b.p99 - a.p99)[0];
 * ```
 */
export interface MetricsHistogramSummary {
  /** Label names and values. */
  readonly labels: Readonly<Record<string, string>>;
  /** Number of observations. */
  readonly count: number;
  /** Sum of the observations, in seconds. */
  readonly sum: number;
  /** Estimated median, in seconds. */
  readonly p50: number;
  /** Estimated 90th percentile, in seconds. */
  readonly p90: number;
  /** Estimated 99th percentile, in seconds. */
  readonly p99: number;
}

/**
 * Every metric as plain, JSON-safe data.
 *
 * @example
 * ```ts
 * response.json(m.snapshot());
 * ```
 */
export interface MetricsSnapshot {
  /** Events published, labelled `type`. */
  readonly published: ReadonlyArray<MetricsSample>;
  /** Publishes that failed, labelled `type` and `code`. */
  readonly publishFailed: ReadonlyArray<MetricsSample>;
  /** Events handled successfully, labelled `type` and `group`. */
  readonly handled: ReadonlyArray<MetricsSample>;
  /** Failed handler attempts, labelled `type`, `group` and `code`. */
  readonly failed: ReadonlyArray<MetricsSample>;
  /** Time in the consume chain per attempt (failed ones included), labelled `type` and `group`. */
  readonly handlerDurationSeconds: ReadonlyArray<MetricsHistogramSummary>;
  /** Time from the envelope's `time` to the end of successful handling, labelled `type` and `group`. */
  readonly endToEndLatencySeconds: ReadonlyArray<MetricsHistogramSummary>;
  /** Registered gauges by full name; a gauge whose `read()` threw is left out. */
  readonly gauges: Readonly<Record<string, number>>;
  /** Registered counters by full name (see `registerCounter`). */
  readonly counters: Readonly<Record<string, ReadonlyArray<MetricsSample>>>;
  /** Registered histograms by full name (see `registerHistogram`). */
  readonly histograms: Readonly<Record<string, ReadonlyArray<MetricsHistogramSummary>>>;
}

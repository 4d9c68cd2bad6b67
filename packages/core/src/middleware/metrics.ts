import { InvalidOptionError } from '../errors';
import { MetricsRegistry } from './metrics-registry';
import type { MetricsSnapshot } from './metrics-snapshot';
import type { Middleware } from './middleware';
import { METRIC_NAME } from './prometheus-text';
import type { RegisteredCounter, RegisteredHistogram } from './registered-metrics';

/**
 * Options for {@link metrics}.
 *
 * @example
 * ```ts
 * const m = metrics({ prefix: 'tasks_', latencyBucketsSeconds: [0.01, 0.1, 1, 10, 60, 600] });
 * ```
 */
export interface MetricsOptions {
  /**
   * Prepended to every metric name, registered gauges included.
   * @defaultValue 'relaybus_'
   */
  prefix?: string;
  /**
   * Upper bounds of the handler-duration histogram buckets, in seconds, strictly increasing (`+Inf` is implied).
   * @defaultValue `[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]`
   */
  durationBucketsSeconds?: ReadonlyArray<number>;
  /**
   * Upper bounds of the end-to-end latency histogram buckets, in seconds, strictly increasing (`+Inf` is implied).
   * @defaultValue the same as `durationBucketsSeconds`
   */
  latencyBucketsSeconds?: ReadonlyArray<number>;
}

/**
 * The {@link metrics} middleware, with readers for what it has counted and a hook to expose more gauges.
 *
 * @example
 * ```ts
 * const m = metrics();
 * bus.use(m);
 * app.get('/metrics', (_req, res) => res.type('text/plain; version=0.0.4').send(m.prometheus()));
 * ```
 */
export interface MetricsMiddleware extends Middleware {
  /** Every metric as plain, JSON-safe data. */
  snapshot(): MetricsSnapshot;
  /** Every metric in the Prometheus text exposition format 0.0.4 (content type `text/plain; version=0.0.4`). */
  prometheus(): string;
  /**
   * Adds a gauge read at each `snapshot()` and `prometheus()` call, such as outbox lag or queue depth. The prefix is
   * prepended to `name`. `read` must be synchronous and cheap; when it throws, the gauge is left out of that read.
   * Returns a function that removes the gauge.
   * @throws {@link InvalidOptionError} when the name does not make a valid metric name or is already taken.
   */
  registerGauge(name: string, help: string, read: () => number): () => void;
  /**
   * Adds a counter family (labelled per call), such as jobs started per queue and type. The prefix is prepended.
   * @throws {@link InvalidOptionError} when the name does not make a valid metric name or is already taken.
   */
  registerCounter(name: string, help: string): RegisteredCounter;
  /**
   * Adds a histogram family of durations in seconds (labelled per call), with the middleware's duration buckets
   * unless `bucketsSeconds` is given. The prefix is prepended.
   * @throws {@link InvalidOptionError} when the name does not make a valid metric name or is already taken.
   */
  registerHistogram(name: string, help: string, bucketsSeconds?: ReadonlyArray<number>): RegisteredHistogram;
}

const WHERE = 'metrics()';
const DEFAULT_BUCKETS_SECONDS: ReadonlyArray<number> = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/**
 * Counts published, handled and failed events and records handler-duration and end-to-end latency histograms
 * (now minus the envelope's `time`, once handled), readable as a JSON snapshot and as Prometheus text. Series are
 * labelled by event type and consumer group (`''` without one), failures also by error code (the error's string
 * `code`, else its class name). Once a series exists, counting allocates nothing.
 *
 * @throws {@link InvalidOptionError} when the prefix is not a valid metric name prefix, or a bucket list is empty,
 * not increasing, or holds a value that is not finite and positive.
 * @example
 * ```ts
 * const m = metrics();
 * bus.use(m);
 * m.registerGauge('queue_depth', 'Jobs waiting.', () => queue.size);
 * console.log(m.snapshot().handled, m.prometheus());
 * ```
 */
export function metrics(options: MetricsOptions = {}): MetricsMiddleware {
  const prefix = options.prefix ?? 'relaybus_';
  if (typeof prefix !== 'string' || (prefix !== '' && !METRIC_NAME.test(prefix))) {
    throw new InvalidOptionError(
      WHERE,
      'prefix',
      `must be a valid Prometheus metric name prefix, got ${String(prefix)}`,
    );
  }
  const duration = checkBuckets(
    'durationBucketsSeconds',
    options.durationBucketsSeconds,
    DEFAULT_BUCKETS_SECONDS,
  );
  const latency = checkBuckets('latencyBucketsSeconds', options.latencyBucketsSeconds, duration);
  const registry = new MetricsRegistry(prefix, duration, latency);

  return {
    name: 'metrics',
    async publish(ctx, next) {
      const series = registry.publisher(ctx.definition.type);
      try {
        await next();
      } catch (error) {
        registry.countFailure(series.failed, series.published.labels, error);
        throw error;
      }
      series.published.value++;
    },
    async consume(ctx, next) {
      const series = registry.consumer(ctx.definition.type, ctx.group);
      const started = performance.now();
      try {
        await next();
      } catch (error) {
        series.duration.observe(secondsSince(started));
        registry.countFailure(series.failed, series.labels, error);
        throw error;
      }
      series.duration.observe(secondsSince(started));
      series.handled.value++;
      const createdAt = Date.parse(ctx.envelope.time);
      if (Number.isFinite(createdAt)) series.latency.observe(Math.max(0, Date.now() - createdAt) / 1000);
    },
    snapshot: () => registry.snapshot(),
    prometheus: () => registry.prometheus(),
    registerGauge: (name, help, read) => registry.registered.gauge(name, help, read),
    registerCounter: (name, help) => registry.registered.counter(name, help),
    registerHistogram: (name, help, buckets) =>
      registry.registered.histogram(name, help, checkBuckets('bucketsSeconds', buckets, duration)),
  };
}

function secondsSince(startedMs: number): number {
  return Math.max(0, performance.now() - startedMs) / 1000;
}

function checkBuckets(
  option: string,
  value: ReadonlyArray<number> | undefined,
  fallback: ReadonlyArray<number>,
): ReadonlyArray<number> {
  if (value === undefined) return fallback;
  const increasing =
    Array.isArray(value) &&
    value.length > 0 &&
    value.every(
      (bound, i) => typeof bound === 'number' && Number.isFinite(bound) && bound > (value[i - 1] ?? 0),
    );
  if (!increasing) {
    throw new InvalidOptionError(
      WHERE,
      option,
      'must be a non-empty list of finite numbers > 0 in increasing order',
    );
  }
  return [...value];
}

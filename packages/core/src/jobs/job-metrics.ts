import type { Logger } from '../logger';
import type { MetricsMiddleware } from '../middleware/metrics';
import type { RegisteredCounter, RegisteredHistogram } from '../middleware/registered-metrics';
import { JOB_STATES, type QueueCounts } from './backend';
import type { JobEventHub } from './job-events';

/**
 * Registers a queue's job metrics on a metrics middleware: counters `jobs_enqueued_total`, `jobs_started_total`,
 * `jobs_completed_total`, `jobs_failed_total` (by code), `jobs_retried_total`, `jobs_dead_total`, the histogram
 * `job_duration_seconds`, and gauges `jobs_<queue>_<state>` and `jobs_<queue>_latency_seconds` (age of the oldest
 * pending job) read from counts refreshed every `intervalMs`. Returns a function that removes them.
 */
export function registerJobMetrics(
  metrics: MetricsMiddleware,
  events: JobEventHub,
  readCounts: () => Promise<QueueCounts>,
  options: { readonly queue: string; readonly logger: Logger; readonly intervalMs?: number },
): () => void {
  const { queue } = options;
  const { enqueued, started, completed, failed, retried, dead, duration, release } = shareFamilies(metrics);
  const stopEvents = events.add({
    enqueued: (job) => enqueued.inc({ queue, type: job.type }),
    started: (job) => started.inc({ queue, type: job.type }),
    completed: (job, seconds) => {
      completed.inc({ queue, type: job.type });
      duration.observe({ queue, type: job.type }, seconds);
    },
    failed: (job, seconds, code, outcome) => {
      failed.inc({ queue, type: job.type, code });
      duration.observe({ queue, type: job.type }, seconds);
      if (outcome === 'retry') retried.inc({ queue, type: job.type });
      if (outcome === 'dead') dead.inc({ queue, type: job.type });
    },
  });
  let last: QueueCounts | undefined;
  const refresh = (): void => {
    readCounts()
      .then((counts) => {
        last = counts;
      })
      .catch((error: unknown) =>
        options.logger.warn(`job queue "${queue}": refreshing metrics failed`, { error }),
      );
  };
  const base = `jobs_${queue.replace(/[^A-Za-z0-9_]/g, '_')}`;
  const removers = [
    ...JOB_STATES.map((state) =>
      metrics.registerGauge(
        `${base}_${state}`,
        `Jobs of queue "${queue}" in state ${state}.`,
        () => last?.counts[state] ?? 0,
      ),
    ),
    metrics.registerGauge(
      `${base}_latency_seconds`,
      `Age of the oldest pending job of queue "${queue}".`,
      () =>
        last?.oldestPendingAt === undefined ? 0 : Math.max(0, (Date.now() - last.oldestPendingAt) / 1_000),
    ),
  ];
  refresh();
  const timer = setInterval(refresh, options.intervalMs ?? 5_000);
  timer.unref?.();
  return () => {
    clearInterval(timer);
    stopEvents();
    for (const remove of removers) remove();
    release();
  };
}

type Families = {
  readonly [K in 'enqueued' | 'started' | 'completed' | 'failed' | 'retried' | 'dead']: RegisteredCounter;
} & { readonly duration: RegisteredHistogram };

/** The job counter and histogram families of one middleware, shared by every queue registered on it. */
const shared = new WeakMap<MetricsMiddleware, { families: Families; users: number }>();

function shareFamilies(metrics: MetricsMiddleware): Families & { release(): void } {
  let entry = shared.get(metrics);
  if (entry === undefined) {
    const counter = (name: string, help: string) => metrics.registerCounter(name, help);
    entry = {
      users: 0,
      families: {
        enqueued: counter('jobs_enqueued_total', 'Jobs enqueued, by queue and type.'),
        started: counter('jobs_started_total', 'Job attempts started, by queue and type.'),
        completed: counter('jobs_completed_total', 'Jobs completed, by queue and type.'),
        failed: counter('jobs_failed_total', 'Job attempts failed, by queue, type and error code.'),
        retried: counter(
          'jobs_retried_total',
          'Failed job attempts scheduled for a retry, by queue and type.',
        ),
        dead: counter('jobs_dead_total', 'Jobs moved to the dead list, by queue and type.'),
        duration: metrics.registerHistogram(
          'job_duration_seconds',
          'Time per job attempt, failed ones included.',
        ),
      },
    };
    shared.set(metrics, entry);
  }
  entry.users++;
  const current = entry;
  return {
    ...current.families,
    release: () => {
      current.users--;
      if (current.users > 0 || shared.get(metrics) !== current) return;
      shared.delete(metrics);
      for (const family of Object.values(current.families)) family.remove();
    },
  };
}

/** Enqueue throughput: `jobs` jobs in calls of `batch`, `inFlight` jobs' calls outstanding at a time. */
export interface EnqueueRequest {
  readonly part: 'enqueue';
  readonly jobs: number;
  /** Jobs per call: 1 is `enqueue` / `Queue.add`, more is `enqueueMany` / `Queue.addBulk`. */
  readonly batch: number;
  readonly inFlight: number;
}

/** Processing throughput of `jobs` pre-enqueued no-op jobs by one worker. */
export interface ProcessRequest {
  readonly part: 'process';
  readonly jobs: number;
  readonly concurrency: number;
  /** Group keys the jobs are spread over (per-group concurrency 1); 0 for no groups. */
  readonly groups: number;
}

/** Enqueue → handler start at a steady rate, one worker. */
export interface LatencyRequest {
  readonly part: 'latency';
  readonly ratePerSec: number;
  readonly durationMs: number;
  readonly concurrency: number;
}

/** Crash-to-rerun trials, run side by side; kills spread over `periodMs` after the rescuing worker is ready. */
export interface CrashRequest {
  readonly part: 'crash';
  readonly trials: number;
  readonly periodMs: number;
}

/** What the benchmark asks a contender process to measure. */
export type JobsRequest = EnqueueRequest | ProcessRequest | LatencyRequest | CrashRequest;

/** Latency percentiles, in microseconds. */
export interface LatencyFigures {
  readonly p50Us: number;
  readonly p99Us: number;
}

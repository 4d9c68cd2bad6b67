import type { BackoffOptions, RetryOptions } from '../bus/retry';
import type { Envelope } from '../events/envelope';
import type { Logger } from '../logger';
import type { MetricsMiddleware } from '../middleware/metrics';
import type { EventStore } from '../store/event-store';
import type { Transport } from '../transport/transport';
import type {
  GroupRate,
  JobBackend,
  JobPage,
  JobPriority,
  JobRecord,
  JobState,
  QueueCounts,
} from './backend';
import type { AnyJobDefinition, JobInput, JobPayload } from './define-job';

/**
 * Options a job definition sets for every enqueue of its type; each enqueue may override them.
 *
 * @example
 * ```ts
 * defineJob('mail:send', schema, { attempts: 8, backoff: { initialDelayMs: 1_000 }, priority: 'high' });
 * ```
 */
export interface JobDefaults<TPayload = unknown> {
  /**
   * Handler attempts, the first included. A crash of the worker does not use one up (see `maxCrashes`).
   * @defaultValue 5
   */
  attempts?: number;
  /**
   * Pause before the next attempt: exponential with full jitter (200 ms doubling to 30 s by default), other backoff
   * options, or a function of the attempt that failed and its error (functions live in the definition only, since
   * they cannot be stored with the job).
   */
  backoff?: RetryOptions['backoff'];
  /**
   * Longest an attempt may run; then `ctx.signal` aborts and the attempt fails with `HandlerTimeoutError`.
   * @defaultValue 1800000 (30 minutes)
   */
  timeoutMs?: number;
  /**
   * @defaultValue 'normal'
   */
  priority?: JobPriority;
  /**
   * Times the job's worker may stop renewing its lease (it crashed or hung) before the job is dead with
   * `CRASH_LIMIT`. Crashes are counted apart from handler failures.
   * @defaultValue 3
   */
  maxCrashes?: number;
  /** Group key (a project or tenant id): the queue's per-group concurrency and rate apply to it. */
  group?: string | ((payload: TPayload) => string);
  /** Uniqueness: see {@link UniqueOptions}. */
  unique?: UniqueOptions<TPayload>;
}

/**
 * While a job with the same key is retained and not finished (for at most `ttlMs`), another enqueue is dropped
 * (`dedupe`, the default) or replaces the waiting job's payload and run time (`debounce`: a burst of enqueues runs
 * the job once, with the last payload, `delayMs` after the last one).
 *
 * @example
 * ```ts
 * await jobs.enqueue(Recalc, { projectId }, { delayMs: 2_000, unique: { ttlMs: 60_000, mode: 'debounce' } });
 * ```
 */
export interface UniqueOptions<TPayload = unknown> {
  /** Longest the key is held, from enqueue; released earlier when the job completes, dies or is cancelled. */
  ttlMs: number;
  /**
   * The key.
   * @defaultValue the job type and its payload (as canonical JSON)
   */
  key?: string | ((payload: TPayload) => string);
  /**
   * @defaultValue 'dedupe'
   */
  mode?: 'dedupe' | 'debounce';
}

/**
 * Options of one enqueue.
 *
 * @example
 * ```ts
 * await jobs.enqueue(SendInvoice, payload, { jobId: `invoice-${id}`, delayMs: 60_000, priority: 'high' });
 * ```
 */
export interface EnqueueOptions<TTransaction = never> {
  /** Run no earlier than this many milliseconds from now. Not with `runAt`. */
  delayMs?: number;
  /** Run no earlier than this time. Not with `delayMs`. */
  runAt?: Date | number;
  /** The job's id; an id the queue still retains is refused with `DuplicateJobError`. @defaultValue a new UUIDv7 */
  jobId?: string;
  /** Handler attempts, the first included. @defaultValue the definition's, else 5 */
  attempts?: number;
  /** Backoff options (not a function: it could not be stored with the job). @defaultValue the definition's */
  backoff?: BackoffOptions;
  /** Longest an attempt may run. @defaultValue the definition's, else 30 minutes */
  timeoutMs?: number;
  /** @defaultValue the definition's, else 'normal' */
  priority?: JobPriority;
  /** @defaultValue the definition's, else 3 */
  maxCrashes?: number;
  /** Group key. @defaultValue the definition's */
  group?: string;
  /** Uniqueness (a `key` given here must be a string). @defaultValue the definition's */
  unique?: { ttlMs: number; key?: string; mode?: 'dedupe' | 'debounce' };
  /**
   * Enqueue inside this database transaction of yours, through the queue's outbox `store`: the job is enqueued once
   * the transaction commits (the outbox relay hands it to the queue), and never if it rolls back.
   */
  transaction?: TTransaction;
}

/**
 * What an enqueue did: `enqueued`, or `deduplicated` / `debounced` onto the job `id` that holds the unique key.
 *
 * @example
 * ```ts
 * const { id, status } = await jobs.enqueue(Recalc, { projectId: 'p1' });
 * ```
 */
export interface EnqueueResult {
  readonly id: string;
  readonly status: 'enqueued' | 'deduplicated' | 'debounced' | 'outbox';
}

/**
 * One job of an `enqueueMany` batch.
 *
 * @example
 * ```ts
 * await jobs.enqueueMany([{ job: SendMail, payload: { to: 'a@x' } }, { job: SendMail, payload: { to: 'b@x' } }]);
 * ```
 */
export type EnqueueItem<TJob extends AnyJobDefinition, TTransaction = never> = TJob extends unknown
  ? {
      readonly job: TJob;
      readonly payload: JobInput<TJob>;
      readonly options?: Omit<EnqueueOptions<TTransaction>, 'transaction'>;
    }
  : never;

/**
 * What a job handler receives besides the payload.
 *
 * @example
 * ```ts
 * async (payload, ctx) => {
 *   await ctx.progress({ done: 10, of: 100 });
 *   await fetch(url, { signal: ctx.signal });
 * }
 * ```
 */
export interface JobContext {
  readonly jobId: string;
  readonly type: string;
  readonly queue: string;
  /** 1 for the first attempt; a crash of the previous worker does not advance it. */
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly group: string | undefined;
  /** When the job was enqueued (epoch ms). */
  readonly enqueuedAt: number;
  /** Aborted on timeout, when the lease is lost, when the job is cancelled, and on shutdown: pass it to I/O. */
  readonly signal: AbortSignal;
  readonly logger: Logger;
  /** Stores a progress value, readable with `jobs.get(id)`. */
  progress(value: unknown): Promise<void>;
}

/**
 * Handlers by job type; the payload type follows each key's definition. The return value is stored as the job's
 * result; throwing `NonRetryableError` sends the job to the dead list at once.
 *
 * @example
 * ```ts
 * const handlers: JobHandlers<typeof Recalc> = { [Recalc.type]: async ({ projectId }) => recalc(projectId) };
 * ```
 */
export type JobHandlers<TJob extends AnyJobDefinition> = {
  readonly [K in TJob['type']]?: (
    payload: JobPayload<Extract<TJob, { readonly type: K }>>,
    ctx: JobContext,
  ) => unknown;
};

/**
 * Options of {@link JobQueue.work}.
 *
 * @example
 * ```ts
 * const worker = jobs.work(handlers, { concurrency: 20 });
 * ```
 */
export interface WorkOptions {
  /**
   * Jobs this worker runs at once.
   * @defaultValue 10
   */
  concurrency?: number;
  /** Aborting it closes the worker (as `close()` with the default timeout). */
  signal?: AbortSignal;
}

/**
 * A running worker. `close()` stops claiming, waits up to `timeoutMs` for running jobs, then aborts the rest and
 * hands them back without counting an attempt.
 *
 * @example
 * ```ts
 * process.on('SIGTERM', () => void worker.close({ timeoutMs: 20_000 }));
 * ```
 */
export interface JobWorker extends AsyncDisposable {
  /** This worker's id, as recorded in leases. */
  readonly id: string;
  /** Jobs running now. */
  readonly active: number;
  /** `running`, `closing` or `closed`. */
  readonly state: 'running' | 'closing' | 'closed';
  close(options?: { timeoutMs?: number }): Promise<void>;
}

/**
 * When a periodic job is due: a cron expression (five or six fields, evaluated in `timeZone`) or a fixed interval
 * (ticks at whole multiples of `everyMs` since the epoch, so every scheduler computes the same ones).
 *
 * @example
 * ```ts
 * const nightly: ScheduleSpec = { cron: '0 3 * * *', timeZone: 'Europe/Berlin' };
 * const often: ScheduleSpec = { everyMs: 60_000 };
 * ```
 */
export type ScheduleSpec =
  | { readonly cron: string; readonly timeZone?: string }
  | { readonly everyMs: number };

/**
 * Runs periodic jobs. Any number of schedulers may run the same schedules: each tick is enqueued exactly once.
 *
 * @example
 * ```ts
 * const scheduler = jobs.scheduler();
 * scheduler.add('nightly-report', Report, { kind: 'daily' }, { cron: '0 3 * * *', timeZone: 'Europe/Berlin' });
 * await scheduler.close();
 * ```
 */
export interface JobScheduler<TJob extends AnyJobDefinition> extends AsyncDisposable {
  /**
   * Adds a schedule under a stable `id` (the same in every process). Ticks after the latest one any scheduler
   * enqueued are enqueued, up to `maxCatchUp` missed ones; a schedule seen for the first time starts with its next
   * tick.
   * @throws `InvalidOptionError` for a malformed cron expression, an unknown time zone, an expression that never
   * fires, or a bad interval.
   */
  add<J extends TJob>(
    id: string,
    job: J,
    payload: JobInput<J>,
    spec: ScheduleSpec,
    options?: Omit<EnqueueOptions, 'transaction' | 'delayMs' | 'runAt' | 'jobId'>,
  ): this;
  /** Stops a schedule in this scheduler. */
  remove(id: string): boolean;
  close(): Promise<void>;
}

/**
 * Options of {@link JobQueue.scheduler}.
 *
 * @example
 * ```ts
 * jobs.scheduler({ maxCatchUp: 1 }); // after an outage, run only the latest missed tick
 * ```
 */
export interface SchedulerOptions {
  /**
   * Most missed ticks of one schedule enqueued after an outage of every scheduler; older ones are skipped (and
   * logged).
   * @defaultValue 100
   */
  maxCatchUp?: number;
  /**
   * How often due ticks are checked.
   * @defaultValue 500
   */
  intervalMs?: number;
  /** The time source (epoch ms), for tests that move the clock. @defaultValue Date.now */
  clock?: () => number;
  /** Aborting it closes the scheduler. */
  signal?: AbortSignal;
}

/**
 * Options of {@link createJobQueue}.
 *
 * @example
 * ```ts
 * const jobs = createJobQueue({ jobs: [Recalc, SendMail], transport, groups: { concurrency: 1 } });
 * ```
 */
export interface JobQueueOptions<TJobs extends ReadonlyArray<AnyJobDefinition>, TTransaction = never> {
  /** The catalog: every job type this queue enqueues or runs. */
  jobs: TJobs;
  /**
   * Where jobs are kept.
   * @defaultValue the `transport`'s job backend, else a new `memoryJobBackend()`
   */
  backend?: JobBackend;
  /** A transport that offers a job backend (`transport.jobBackend()`, such as the Redis transport's). */
  transport?: Transport;
  /**
   * The queue's name. Queues split work between worker pools; a worker handles every type its queue receives.
   * @defaultValue 'default'
   */
  queue?: string;
  /** An outbox store, for `enqueue(..., { transaction })`. */
  store?: EventStore<TTransaction>;
  /**
   * Per-group limits, across every worker: `concurrency` active jobs at most (1: one at a time, in enqueue order),
   * and at most `rate.max` starts per `rate.perMs`.
   * @defaultValue `{ concurrency: 1 }`
   */
  groups?: { concurrency?: number; rate?: GroupRate };
  /**
   * `strict`: a higher priority always first; `weighted`: in proportion to weights (default 8, 4, 2, 1), so low
   * priority is never starved.
   * @defaultValue 'weighted'
   */
  priority?: 'strict' | 'weighted' | { weights: Readonly<Record<JobPriority, number>> };
  /**
   * Lease length of an active job; its worker renews it every third of it. A crashed worker's job runs again after
   * about this long.
   * @defaultValue 5000
   */
  leaseTtlMs?: number;
  /**
   * How long completed jobs are kept with their result.
   * @defaultValue 86400000 (a day)
   */
  retainCompletedMs?: number;
  /**
   * Largest serialised payload `enqueue` accepts, in bytes.
   * @defaultValue 524288
   */
  maxPayloadBytes?: number;
  /** @defaultValue {@link consoleLogger} */
  logger?: Logger;
}

/**
 * A job queue: typed enqueue, workers, inspection, dead jobs and periodic jobs.
 *
 * @example
 * ```ts
 * const jobs = createJobQueue({ jobs: [Recalc] });
 * jobs.work({ [Recalc.type]: async ({ projectId }) => recalc(projectId) });
 * await jobs.enqueue(Recalc, { projectId: 'p1' });
 * ```
 */
export interface JobQueue<TJob extends AnyJobDefinition = AnyJobDefinition, TTransaction = never>
  extends AsyncDisposable {
  /** The queue's name. */
  readonly name: string;
  readonly backend: JobBackend;
  /**
   * Validates the payload and adds the job (or, with `transaction`, appends it to the outbox).
   * @throws `ValidationError`, `UnknownJobError`, `InvalidOptionError`, `DuplicateJobError`, `PayloadTooLargeError`,
   * `ClosedError`
   */
  enqueue<J extends TJob>(
    job: J,
    payload: JobInput<J>,
    options?: EnqueueOptions<TTransaction>,
  ): Promise<EnqueueResult>;
  /**
   * Enqueues a batch in one round trip where the backend allows; validation runs first, for every item, so an invalid
   * item adds nothing. Results in order. `transaction` applies to the whole batch.
   */
  enqueueMany(
    items: ReadonlyArray<EnqueueItem<TJob, TTransaction>>,
    options?: { transaction?: TTransaction },
  ): Promise<EnqueueResult[]>;
  /**
   * Adds a job an outbox relay read from the store (an event of type `relaybus.job.enqueued` that this queue's
   * `enqueue(..., { transaction })` appended). For relay authors; a job handed over twice is added once.
   * @throws `InvalidEnvelopeError` for an event that is not a job of this queue, `UnknownJobError` for a type the
   * catalog does not know.
   */
  receiveFromOutbox(event: Envelope): Promise<EnqueueResult>;
  /** Starts a worker in this process. */
  work(handlers: JobHandlers<TJob>, options?: WorkOptions): JobWorker;
  /** Starts a scheduler of periodic jobs in this process. */
  scheduler(options?: SchedulerOptions): JobScheduler<TJob>;
  /** Jobs per state, whether the queue is paused, and the age of the oldest pending job. */
  inspect(): Promise<QueueCounts>;
  /** A page of jobs in one state. */
  list(request: { state: JobState; limit?: number; after?: string }): Promise<JobPage>;
  /** One job with its history, while it is retained. */
  get(id: string): Promise<JobRecord | undefined>;
  /** Cancels a job (see `JobBackend.cancel`). */
  cancel(id: string): Promise<'cancelled' | 'cancelling' | 'finished' | 'not-found'>;
  /** Stops workers from starting jobs of this queue (running ones finish). */
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** The dead list: inspect, retry, purge. */
  readonly dead: DeadJobs;
  /** Purges completed jobs (all, or `ids`). */
  purgeCompleted(ids?: ReadonlyArray<string>): Promise<number>;
  /**
   * Counts enqueued, started, completed, failed, retried and dead jobs and records durations on a metrics
   * middleware, with gauges of jobs per state and the age of the oldest pending job (queue latency). Returns a
   * function that stops it.
   */
  registerMetrics(metrics: MetricsMiddleware, options?: { intervalMs?: number }): () => void;
  /** Closes workers and schedulers started here (bounded), then the backend if the queue made it. */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

/**
 * The dead list of a queue.
 *
 * @example
 * ```ts
 * const { jobs: dead } = await queue.dead.list({ limit: 20 });
 * await queue.dead.retry(dead.map((job) => job.id));
 * ```
 */
export interface DeadJobs {
  /** A page of dead jobs, oldest first, each with every attempt's error. */
  list(request?: { limit?: number; after?: string }): Promise<JobPage>;
  /** Dead jobs back to pending, with attempts and crashes reset. Returns how many. */
  retry(ids: string | ReadonlyArray<string>): Promise<number>;
  retryAll(): Promise<number>;
  /** Removes dead jobs for good (all, or `ids`). Returns how many. */
  purge(ids?: ReadonlyArray<string>): Promise<number>;
}

/**
 * What an outbox relay needs of a job queue to hand it the jobs enqueued in transactions: its name and
 * `receiveFromOutbox`. Any `JobQueue` fits, whatever its jobs and transaction type.
 *
 * @example
 * ```ts
 * const receivers: OutboxJobReceiver[] = [mailQueue, reportQueue];
 * ```
 */
export type OutboxJobReceiver = Pick<JobQueue<AnyJobDefinition, unknown>, 'name' | 'receiveFromOutbox'>;

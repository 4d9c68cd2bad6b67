import type { BackoffOptions } from '../bus/retry';
import type { SerializedError } from '../transport/transport';

/**
 * Where a job stands. `scheduled`: waiting for its `runAt`; `pending`: ready to be claimed; `active`: leased to a
 * worker; `retry`: failed, waiting for its next attempt; `completed`: done, kept with its result for the retention
 * time; `dead`: given up, kept with every attempt's error until purged or retried.
 *
 * @example
 * ```ts
 * const counts = await jobs.inspect(); // counts.counts.dead
 * ```
 */
export type JobState = 'scheduled' | 'pending' | 'active' | 'retry' | 'completed' | 'dead';

/** Every {@link JobState}, in lifecycle order. */
export const JOB_STATES: ReadonlyArray<JobState> = [
  'scheduled',
  'pending',
  'active',
  'retry',
  'completed',
  'dead',
];

/**
 * A job's priority. Under the `strict` policy a higher level is always claimed first; under `weighted` each level is
 * claimed in proportion to its weight, so low priority is never starved.
 *
 * @example
 * ```ts
 * await jobs.enqueue(SendInvoice, payload, { priority: 'high' });
 * ```
 */
export type JobPriority = 'critical' | 'high' | 'normal' | 'low';

/** Every {@link JobPriority}, highest first. */
export const JOB_PRIORITIES: ReadonlyArray<JobPriority> = ['critical', 'high', 'normal', 'low'];

/**
 * Why a job was given up.
 *
 * @example
 * ```ts
 * const dead = await jobs.dead.list();
 * dead.jobs.filter((job) => job.deadReason === 'CRASH_LIMIT');
 * ```
 */
export type DeadJobReason =
  /** Its handler failed on every allowed attempt. */
  | 'MAX_ATTEMPTS'
  /** Its handler threw `NonRetryableError` (or the payload failed validation before it ran). */
  | 'NON_RETRYABLE'
  /** Workers holding it stopped renewing its lease `maxCrashes` times (it kills or hangs its worker). */
  | 'CRASH_LIMIT'
  /** No handler for its type was registered by the worker that claimed it. */
  | 'NO_HANDLER';

/**
 * The error of one attempt, as kept in a job's history.
 *
 * @example
 * ```ts
 * for (const failure of job.errors) console.log(failure.attempt, failure.kind, failure.error.message);
 * ```
 */
export interface JobAttemptError {
  /** The attempt that ended this way (a crash does not start a new attempt number). */
  readonly attempt: number;
  /** `error`: the handler threw; `timeout`: it ran past `timeoutMs`; `crash`: its worker stopped renewing the lease. */
  readonly kind: 'error' | 'timeout' | 'crash';
  /** The error, as plain data. */
  readonly error: SerializedError;
  /** When it happened (epoch milliseconds). */
  readonly at: number;
}

/**
 * A uniqueness constraint, resolved: while a job holds `key`, another job with the same key is not added
 * (`dedupe`), or replaces the waiting one's payload and run time (`debounce`).
 *
 * @example
 * ```ts
 * const unique: JobUniqueness = { key: 'recalc:p1', ttlMs: 60_000, mode: 'debounce' };
 * ```
 */
export interface JobUniqueness {
  /** The key: by default the job type and its payload. */
  readonly key: string;
  /** Longest the key is held, from enqueue; it is released earlier when the job completes, dies or is cancelled. */
  readonly ttlMs: number;
  /** What a second enqueue with the key does while the key is held. */
  readonly mode: 'dedupe' | 'debounce';
}

/**
 * A job as the queue hands it to a backend to add: validated, with every default resolved.
 *
 * @example
 * ```ts
 * const [outcome] = await backend.add('default', [newJob]);
 * ```
 */
export interface NewJob {
  /** Unique within the queue (the caller's `jobId`, else a UUIDv7). */
  readonly id: string;
  /** The job type. */
  readonly type: string;
  /** The validated payload, JSON-safe. */
  readonly payload: unknown;
  readonly priority: JobPriority;
  /** Group key: jobs of one group share the group's concurrency and rate limit and start in enqueue order. */
  readonly group?: string;
  /** When it may run (epoch ms). At or before `enqueuedAt` it is pending at once; later, it is scheduled. */
  readonly runAt: number;
  /** When it was enqueued (epoch ms). */
  readonly enqueuedAt: number;
  /** Handler attempts allowed, the first included. */
  readonly maxAttempts: number;
  /** Crashes (leases that expired) allowed before the job is dead with `CRASH_LIMIT`. */
  readonly maxCrashes: number;
  /** Longest an attempt may run. */
  readonly timeoutMs: number;
  /** Backoff options given at enqueue (functions stay with the job definition and are not stored). */
  readonly backoff?: BackoffOptions;
  readonly unique?: JobUniqueness;
}

/**
 * A worker's hold on an active job. Every call that changes an active job presents it; a backend refuses a call
 * whose token is no longer the job's (the lease expired and the job moved on), so a job is never finished twice.
 *
 * @example
 * ```ts
 * const ref: LeaseRef = { id: job.id, token: job.lease.token };
 * ```
 */
export interface LeaseRef {
  readonly id: string;
  readonly token: string;
}

/**
 * The lease of an active job.
 *
 * @example
 * ```ts
 * if (job.lease && job.lease.expiresAt < Date.now()) console.log('expired');
 * ```
 */
export interface JobLease extends LeaseRef {
  /** The worker holding it. */
  readonly worker: string;
  /** When it expires unless extended (epoch ms, by the backend's clock). */
  readonly expiresAt: number;
}

/**
 * A job as stored.
 *
 * @example
 * ```ts
 * const job = await jobs.get(id);
 * console.log(job?.state, job?.failures, job?.result);
 * ```
 */
export interface JobRecord extends NewJob {
  readonly queue: string;
  readonly state: JobState;
  /** Attempts that ended in a handler error or timeout. The current attempt number is `failures + 1`. */
  readonly failures: number;
  /** Leases that expired while the job was active (its worker crashed or hung). */
  readonly crashes: number;
  /** When the current or last attempt started (epoch ms). */
  readonly startedAt?: number;
  /** When it completed or died (epoch ms). */
  readonly finishedAt?: number;
  /** The last value the handler reported with `ctx.progress()`. */
  readonly progress?: unknown;
  /** The handler's return value, once completed. */
  readonly result?: unknown;
  /** Every attempt's error, oldest first; at most the last 25 are kept. */
  readonly errors: ReadonlyArray<JobAttemptError>;
  readonly deadReason?: DeadJobReason;
  /** Set while active. */
  readonly lease?: JobLease;
  /** A cancel was asked for while the job was active: its worker aborts it at its next lease renewal. */
  readonly cancelRequested?: boolean;
}

/**
 * A job a worker claimed, with its lease.
 *
 * @example
 * ```ts
 * const [job] = await backend.claim(request);
 * await backend.complete('default', job.lease, result, 86_400_000);
 * ```
 */
export type ClaimedJob = JobRecord & { readonly lease: JobLease };

/**
 * What happened to each job given to {@link JobBackend.add}. `added`; `duplicate`: a job with this id is retained
 * already (nothing changed); `deduplicated`: the unique key is held by job `id` (nothing changed); `debounced`: the
 * unique key is held by job `id`, which had not started, and took the new payload and run time.
 *
 * @example
 * ```ts
 * const outcome: AddOutcome = { status: 'debounced', id: 'job-41' };
 * ```
 */
export interface AddOutcome {
  readonly status: 'added' | 'duplicate' | 'deduplicated' | 'debounced';
  /** The job that now stands for the request: the new one, or the one that held its id or key. */
  readonly id: string;
}

/**
 * How a claim picks between priority levels.
 *
 * @example
 * ```ts
 * const policy: PriorityPolicy = { mode: 'weighted', weights: { critical: 8, high: 4, normal: 2, low: 1 } };
 * ```
 */
export type PriorityPolicy =
  | { readonly mode: 'strict' }
  | { readonly mode: 'weighted'; readonly weights: Readonly<Record<JobPriority, number>> };

/**
 * Per-group start rate: at most `max` starts per `perMs` window (fixed windows, by the backend's clock).
 *
 * @example
 * ```ts
 * const rate: GroupRate = { max: 10, perMs: 1_000 };
 * ```
 */
export interface GroupRate {
  readonly max: number;
  readonly perMs: number;
}

/**
 * What a worker asks a backend for.
 *
 * @example
 * ```ts
 * await backend.claim({ queue: 'default', worker: 'w1', max: 10, leaseTtlMs: 5_000, groupConcurrency: 1,
 *   priority: { mode: 'strict' } });
 * ```
 */
export interface ClaimRequest {
  readonly queue: string;
  /** The claiming worker's id, recorded in the lease. */
  readonly worker: string;
  /** Most jobs to claim. */
  readonly max: number;
  /** Lease length. */
  readonly leaseTtlMs: number;
  /** Most active jobs per group, across every worker. */
  readonly groupConcurrency: number;
  /** Per-group start rate, across every worker. */
  readonly groupRate?: GroupRate;
  readonly priority: PriorityPolicy;
}

/**
 * Counts of one queue's jobs per state, for inspection and metrics.
 *
 * @example
 * ```ts
 * const { counts, paused, oldestPendingAt } = await backend.counts('default');
 * ```
 */
export interface QueueCounts {
  readonly queue: string;
  readonly paused: boolean;
  readonly counts: Readonly<Record<JobState, number>>;
  /** `enqueuedAt` (or due time) of the oldest pending job: the queue's latency is now minus this. */
  readonly oldestPendingAt?: number;
}

/**
 * One page of jobs in one state, oldest first, and the cursor of the next page.
 *
 * @example
 * ```ts
 * let page = await jobs.list({ state: 'dead', limit: 50 });
 * while (page.next) page = await jobs.list({ state: 'dead', limit: 50, after: page.next });
 * ```
 */
export interface JobPage {
  readonly jobs: ReadonlyArray<JobRecord>;
  /** Pass as `after` for the next page; absent on the last one. */
  readonly next?: string;
}

/**
 * How a failed attempt ends: `retry` at `runAt`, `dead` with a reason, or `drop` (a job cancelled while it ran:
 * removed).
 *
 * @example
 * ```ts
 * const outcome: JobFailureOutcome = { kind: 'retry', runAt: Date.now() + 2_000 };
 * ```
 */
export type JobFailureOutcome =
  | { readonly kind: 'retry'; readonly runAt: number }
  | { readonly kind: 'dead'; readonly reason: DeadJobReason }
  | { readonly kind: 'drop' };

/**
 * A failed attempt, as a worker reports it.
 *
 * @example
 * ```ts
 * await backend.fail('default', lease, { kind: 'error', error: serializeError(e), outcome: { kind: 'dead', reason: 'NON_RETRYABLE' } });
 * ```
 */
export interface JobFailure {
  readonly kind: 'error' | 'timeout';
  readonly error: SerializedError;
  readonly outcome: JobFailureOutcome;
}

/**
 * The storage and coordination behind a job queue: the memory backend (in core) and the Redis backend implement
 * it, and `describeJobQueueConformance` from `@relaybus/core/testing` checks it through the queue's public API.
 * The queue does validation, retries, backoff, timeouts, heartbeats and scheduling; a backend keeps jobs and moves
 * them between states atomically, so that any number of workers and schedulers in any number of processes agree.
 * Every method takes the queue name, so one backend serves many queues. Times are epoch milliseconds; leases and
 * due times use the backend's clock (a Redis server's `TIME`, say).
 *
 * Payloads, results and progress values reach a backend JSON-safe (the queue checks them), so a backend may store
 * them as JSON. Every worker of a queue claims with the same group limits and priority policy (they come from the
 * queue's options): a backend may keep the last claim's limits to decide when a finished job frees its group.
 *
 * Rules every backend keeps:
 * - `add` is atomic per job. A retained id is `duplicate`. A held unique key is `deduplicated`, or in `debounce` mode
 *   `debounced` when the holder is scheduled, pending or waiting for a retry (its payload and `runAt` are replaced;
 *   a holder that is active lets the new job in, and the new job takes the key). Keys are released when their
 *   holder completes, dies or is cancelled, or after `ttlMs`.
 * - `claim` first makes due scheduled and retry jobs pending, returns nothing while the queue is paused, and leases up
 *   to `max` pending jobs (`failures` unchanged, `startedAt` set). It picks a priority level by the policy (strict:
 *   the highest level with a claimable job; weighted: each level with a claimable job in proportion to its
 *   weight), then within the level takes turns between ungrouped jobs (oldest first) and groups (round robin,
 *   each group's oldest job first). A group is claimable while it has fewer than `groupConcurrency` active jobs and
 *   its rate window allows another start. So `groupConcurrency: 1` runs a group's jobs one at a time in enqueue
 *   order (a job waiting for a retry does not hold its group's slot).
 * - `extend`, `progress`, `complete`, `fail` and `release` act only when the lease token is still the job's; they
 *   return `false` (or `lost`) otherwise and change nothing. `release` puts a job back to pending without counting a
 *   failure or a crash (a worker shutting down), ahead of its group's other jobs.
 * - `recover` finds active jobs whose lease expired: each counts a crash (recorded in `errors` with kind `crash`) and
 *   goes back to pending at once, ahead of its group's other jobs, or dies with `CRASH_LIMIT` once `crashes` reaches
 *   `maxCrashes`. A crash is not a failure: the next attempt has the same number.
 * - `complete` keeps the job with its result for `retainMs` (0: removed at once). Dead jobs are kept until purged.
 * - `enqueueTick` adds the job of one tick of one schedule exactly once, however many schedulers ask, and remembers
 *   the tick so `lastTick` can return the latest one.
 *
 * @example
 * ```ts
 * const jobs = createJobQueue({ backend: memoryJobBackend(), jobs: [SendInvoice] });
 * ```
 */
export interface JobBackend {
  /** A short name for errors and logs, such as `memory` or `redis`. */
  readonly name: string;
  /** Adds jobs; one outcome per job, in order. */
  add(queue: string, jobs: ReadonlyArray<NewJob>): Promise<AddOutcome[]>;
  /** Leases claimable jobs to a worker (see the rules above). */
  claim(request: ClaimRequest): Promise<ClaimedJob[]>;
  /**
   * Resolves when a job of `queue` may have become claimable (an add, a freed group slot, a resume), or after
   * `timeoutMs`, or when `signal` aborts. A hint: the worker claims after it either way.
   */
  wait(queue: string, timeoutMs: number, signal?: AbortSignal): Promise<void>;
  /** Renews leases; per lease `ok`, `lost` (another worker may have it now) or `cancelled` (a cancel was asked for). */
  extend(
    queue: string,
    leases: ReadonlyArray<LeaseRef>,
    leaseTtlMs: number,
  ): Promise<Array<'ok' | 'lost' | 'cancelled'>>;
  /** Stores a progress value of an active job. */
  progress(queue: string, lease: LeaseRef, value: unknown): Promise<boolean>;
  /** Marks an active job completed with its result, kept for `retainMs`. */
  complete(queue: string, lease: LeaseRef, result: unknown, retainMs: number): Promise<boolean>;
  /** Records a failed attempt and moves the job to retry, dead, or (cancelled) away. */
  fail(queue: string, lease: LeaseRef, failure: JobFailure): Promise<boolean>;
  /** Hands an active job back to pending without counting anything. */
  release(queue: string, lease: LeaseRef): Promise<boolean>;
  /** Moves jobs whose lease expired back to pending (or to dead), counting a crash; returns how many. */
  recover(queue: string): Promise<number>;
  /** Jobs per state. */
  counts(queue: string): Promise<QueueCounts>;
  /** A page of jobs in one state, oldest first. */
  list(
    queue: string,
    request: { readonly state: JobState; readonly limit: number; readonly after?: string },
  ): Promise<JobPage>;
  /** One job, in any state, while it is retained. */
  get(queue: string, id: string): Promise<JobRecord | undefined>;
  /**
   * Cancels a job: a scheduled, pending or retry job is removed (`cancelled`); an active one is marked and its worker
   * aborts it (`cancelling`); a completed or dead one is left (`finished`).
   */
  cancel(queue: string, id: string): Promise<'cancelled' | 'cancelling' | 'finished' | 'not-found'>;
  /** Dead jobs back to pending with `failures` and `crashes` reset; `all` for every dead job. Returns how many. */
  retryDead(queue: string, ids: ReadonlyArray<string> | 'all'): Promise<number>;
  /** Removes completed or dead jobs for good (all of that state, or only `ids`). Returns how many. */
  purge(
    queue: string,
    request: { readonly state: 'completed' | 'dead'; readonly ids?: ReadonlyArray<string> },
  ): Promise<number>;
  /** Stops claims from the queue (adds still work). */
  pause(queue: string): Promise<void>;
  /** Lets claims resume. */
  resume(queue: string): Promise<void>;
  /** Adds the job of one tick of a schedule exactly once; `true` when this call added it. */
  enqueueTick(
    queue: string,
    tick: { readonly schedule: string; readonly at: number; readonly job: NewJob },
  ): Promise<boolean>;
  /** The latest tick of a schedule that was enqueued, if any. */
  lastTick(queue: string, schedule: string): Promise<number | undefined>;
  /** Releases timers and connections the backend opened (never the user's client). */
  close(): Promise<void>;
}

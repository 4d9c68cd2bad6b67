import {
  type ClaimedJob,
  JOB_STATES,
  type JobBackend,
  type JobRecord,
  type JobState,
} from '../../jobs/backend';
import { createJobQueue } from '../../jobs/create-job-queue';
import type { AnyJobDefinition } from '../../jobs/define-job';
import type { JobQueue, JobQueueOptions } from '../../jobs/types';
import type { Logger } from '../../logger';
import { sleep, waitFor } from '../wait-for';
import { summarize } from './assertions';
import type { JobBackendFactory } from './options';

/**
 * Settings one test's harness runs with.
 *
 * @example
 * ```ts
 * const config: JobHarnessConfig = { factory, namespace: 'jq_x_1', queueName: 'jq_x_1', sharedBackend: false,
 *   timeoutScale: 1, seed: 42 };
 * ```
 */
export interface JobHarnessConfig {
  readonly factory: JobBackendFactory;
  readonly namespace: string;
  readonly queueName: string;
  readonly sharedBackend: boolean;
  readonly timeoutScale: number;
  /** Seed of this test's random choices. */
  readonly seed: number;
}

/**
 * Options of a queue the harness builds: those of `createJobQueue` but the catalog and the queue name, which the
 * harness sets; `backend` defaults to the test's main backend.
 *
 * @example
 * ```ts
 * const settings: QueueSettings = { priority: 'strict', groups: { concurrency: 2 } };
 * ```
 */
export type QueueSettings = Omit<
  JobQueueOptions<ReadonlyArray<AnyJobDefinition>>,
  'jobs' | 'queue' | 'transport' | 'store'
>;

/**
 * The read side of a queue, whatever its catalog.
 *
 * @example
 * ```ts
 * const view: QueueView = jobs;
 * ```
 */
export type QueueView = Pick<JobQueue, 'name' | 'get' | 'inspect' | 'list'>;

/**
 * One line the queues of a test logged, kept for failure messages.
 *
 * @example
 * ```ts
 * const entry: LogEntry = { level: 'warn', message: 'retrying', fields: {} };
 * ```
 */
export interface LogEntry {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly message: string;
  readonly fields: Record<string, unknown> | undefined;
}

const BASE_TIMEOUT_MS = 5_000;
const BASE_QUIET_MS = 50;
const BASE_CLOSE_TIMEOUT_MS = 2_000;
const BASE_LEASE_MS = 600;

/**
 * Per-test fixture of the job queue suite: makes backends in the test's namespace and queues on them under the
 * test's queue name, plays crashed workers through the backend, scales wait bounds, and closes every queue (with
 * its workers and schedulers) and then every backend when the test ends.
 *
 * @example
 * ```ts
 * const jobs = await h.queue([Task]);
 * jobs.work({ [Task.type]: async ({ label }) => label });
 * ```
 */
export class JobHarness {
  readonly namespace: string;
  readonly queueName: string;
  readonly sharedBackend: boolean;
  readonly seed: number;
  /** Everything the test's queues logged. */
  readonly logs: LogEntry[] = [];
  /** The logger every queue of the test writes to. */
  readonly logger: Logger;
  readonly #config: JobHarnessConfig;
  readonly #backends: Array<JobBackend | undefined> = [];
  readonly #queues: Array<JobQueue<AnyJobDefinition>> = [];
  #primary: Promise<JobBackend> | undefined;

  constructor(config: JobHarnessConfig) {
    this.#config = config;
    this.namespace = config.namespace;
    this.queueName = config.queueName;
    this.sharedBackend = config.sharedBackend;
    this.seed = config.seed;
    const log =
      (level: LogEntry['level']) =>
      (message: string, fields?: Record<string, unknown>): void => {
        this.logs.push({ level, message, fields });
      };
    this.logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
  }

  /** Scales a duration by the suite's `timeoutScale`. */
  ms(base: number): number {
    return Math.round(base * this.#config.timeoutScale);
  }

  /** Default upper bound of every wait in a scenario. */
  get timeoutMs(): number {
    return this.ms(BASE_TIMEOUT_MS);
  }

  /** The lease every queue of the harness uses unless a test says otherwise: short, so crashes resolve fast. */
  get leaseTtlMs(): number {
    return this.ms(BASE_LEASE_MS);
  }

  /** The test's main backend, made on first use. */
  backend(): Promise<JobBackend> {
    this.#primary ??= this.newBackend();
    return this.#primary;
  }

  /** "Another process": a new backend when instances share their jobs, otherwise the main one. */
  peerBackend(): Promise<JobBackend> {
    return this.sharedBackend ? this.newBackend() : this.backend();
  }

  /** Always a new backend in the test's namespace. */
  async newBackend(): Promise<JobBackend> {
    // Reserve the slot before awaiting so concurrent calls get distinct instance numbers.
    const instance = this.#backends.push(undefined) - 1;
    const backend = await this.#config.factory({ namespace: this.namespace, instance });
    this.#backends[instance] = backend;
    return backend;
  }

  /** A queue of the test's name over `jobs`, on `settings.backend` or the main backend; closed after the test. */
  async queue<const TJobs extends ReadonlyArray<AnyJobDefinition>>(
    jobs: TJobs,
    settings: QueueSettings = {},
  ): Promise<JobQueue<TJobs[number]>> {
    const backend = settings.backend ?? (await this.backend());
    const queue = createJobQueue({
      leaseTtlMs: this.leaseTtlMs,
      logger: this.logger,
      ...settings,
      jobs,
      backend,
      queue: this.queueName,
    });
    this.#queues.push(queue as unknown as JobQueue<AnyJobDefinition>);
    return queue;
  }

  /** A queue as another process of the deployment would make it (on {@link peerBackend}). */
  async peerQueue<const TJobs extends ReadonlyArray<AnyJobDefinition>>(
    jobs: TJobs,
    settings: QueueSettings = {},
  ): Promise<JobQueue<TJobs[number]>> {
    return this.queue(jobs, { ...settings, backend: await this.peerBackend() });
  }

  /** {@link waitFor} with the scaled default bound. */
  waitFor(
    predicate: () => boolean | Promise<boolean>,
    message: string | (() => string),
    timeoutMs?: number,
  ): Promise<void> {
    return waitFor(predicate, { timeoutMs: timeoutMs ?? this.timeoutMs, message });
  }

  /** Waits until job `id` satisfies `done` (an absent job is `undefined`) and returns what was last read. */
  async waitForJob(
    queue: QueueView,
    id: string,
    done: (job: JobRecord | undefined) => boolean,
    what: string,
    timeoutMs?: number,
  ): Promise<JobRecord | undefined> {
    let last: JobRecord | undefined;
    await this.waitFor(
      async () => {
        last = await queue.get(id);
        return done(last);
      },
      () => `${what} (job ${id} is ${summarize(last)}${this.#recentProblems()})`,
      timeoutMs,
    );
    return last;
  }

  /** Waits until job `id` is in one of `states` and returns it. */
  async waitForState(
    queue: QueueView,
    id: string,
    states: JobState | ReadonlyArray<JobState>,
    timeoutMs?: number,
  ): Promise<JobRecord> {
    const wanted: ReadonlyArray<JobState> = typeof states === 'string' ? [states] : states;
    const job = await this.waitForJob(
      queue,
      id,
      (current) => current !== undefined && wanted.includes(current.state),
      `job ${id} to be ${wanted.join(' or ')}`,
      timeoutMs,
    );
    if (job === undefined) throw new Error(`job ${id} disappeared`);
    return job;
  }

  /** Jobs of the queue in every state. */
  async totalJobs(queue: QueueView): Promise<number> {
    const { counts } = await queue.inspect();
    return JOB_STATES.reduce((sum, state) => sum + counts[state], 0);
  }

  /** Every job of the queue in `states` (all by default), page by page, oldest first within a state. */
  async allJobs(queue: QueueView, states: ReadonlyArray<JobState> = JOB_STATES): Promise<JobRecord[]> {
    const jobs: JobRecord[] = [];
    for (const state of states) {
      let after: string | undefined;
      do {
        const page = await queue.list({ state, limit: 100, ...(after === undefined ? {} : { after }) });
        jobs.push(...page.jobs);
        after = page.next;
      } while (after !== undefined);
    }
    return jobs;
  }

  /**
   * Plays a worker that claims jobs and then dies: it leases up to `max` pending jobs for `leaseTtlMs` and never
   * renews, completes or releases them.
   */
  claimAsCrashedWorker(
    backend: JobBackend,
    leaseTtlMs: number,
    max = 1,
    worker = 'crashed-worker',
  ): Promise<ClaimedJob[]> {
    return backend.claim({
      queue: this.queueName,
      worker,
      max,
      leaseTtlMs,
      groupConcurrency: 1,
      priority: { mode: 'strict' },
    });
  }

  /**
   * Waits a short, scaled quiet period. Used only to give a misbehaving queue the chance to do what it must not (run
   * a job twice, start one while paused); never to wait for something that must happen.
   */
  quiet(baseMs: number = BASE_QUIET_MS): Promise<void> {
    return sleep(this.ms(baseMs));
  }

  /** Awaits `promise`, failing with `what` when it does not settle within the bound. */
  async within<T>(promise: Promise<T>, what: string, timeoutMs?: number): Promise<T> {
    const limitMs = timeoutMs ?? this.timeoutMs;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: did not settle within ${limitMs} ms`)), limitMs);
    });
    try {
      return await Promise.race([promise, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The last warnings and errors the test's queues logged, for failure messages. */
  #recentProblems(): string {
    const problems = this.logs.filter((entry) => entry.level === 'warn' || entry.level === 'error').slice(-3);
    if (problems.length === 0) return '';
    return `; last logged: ${problems.map((entry) => `${entry.level} "${entry.message}"`).join('; ')}`;
  }

  /**
   * Closes every queue the test made (their workers and schedulers, bounded), then every backend; fails naming
   * what could not be closed.
   */
  async closeAll(): Promise<void> {
    const queues = this.#queues.splice(0);
    const backends = this.#backends.splice(0);
    this.#primary = undefined;
    const limitMs = this.ms(BASE_CLOSE_TIMEOUT_MS);
    const failures: string[] = [];
    const settle = async (closes: ReadonlyArray<Promise<unknown>>): Promise<void> => {
      for (const result of await Promise.allSettled(closes)) {
        if (result.status === 'rejected') failures.push(String(result.reason));
      }
    };
    await settle(
      queues.map((queue, index) =>
        this.within(queue.close({ timeoutMs: limitMs }), `close() of queue object ${index}`, limitMs + 1_000),
      ),
    );
    await settle(
      backends.map((backend, index) =>
        backend === undefined
          ? Promise.resolve()
          : this.within(backend.close(), `close() of backend ${index} (${backend.name})`, limitMs),
      ),
    );
    if (failures.length > 0) throw new Error(`Closing after the test failed: ${failures.join('; ')}`);
  }
}

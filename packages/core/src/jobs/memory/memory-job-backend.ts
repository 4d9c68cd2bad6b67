import { ClosedError } from '../../errors';
import type {
  AddOutcome,
  ClaimedJob,
  ClaimRequest,
  JobBackend,
  JobFailure,
  JobPage,
  JobRecord,
  JobState,
  LeaseRef,
  NewJob,
  QueueCounts,
} from '../backend';
import { ERROR_HISTORY, QueueState, type StoredJob, snapshot } from './queue-state';

/**
 * Options of {@link memoryJobBackend}.
 *
 * @example
 * ```ts
 * const backend = memoryJobBackend({ clock: () => fakeNow });
 * ```
 */
export interface MemoryJobBackendOptions {
  /**
   * The time source for due times, leases and retention (epoch ms).
   * @defaultValue Date.now
   */
  readonly clock?: () => number;
}

/**
 * Creates the in-process job backend, the embedded default: every rule of the `JobBackend` contract (priorities,
 * groups, leases, crashes, uniqueness, retention, exactly-once ticks) in memory, shared by every queue and worker of
 * the process. Nothing survives the process.
 *
 * @example
 * ```ts
 * const jobs = createJobQueue({ backend: memoryJobBackend(), jobs: [SendMail] });
 * ```
 */
export function memoryJobBackend(options: MemoryJobBackendOptions = {}): JobBackend {
  return new MemoryJobBackend(options.clock ?? Date.now);
}

class MemoryJobBackend implements JobBackend {
  readonly name = 'memory';
  readonly #queues = new Map<string, QueueState>();
  readonly #waiters = new Map<string, Set<() => void>>();
  #closed = false;

  constructor(private readonly clock: () => number) {}

  async add(queue: string, jobs: ReadonlyArray<NewJob>): Promise<AddOutcome[]> {
    const state = this.#state(queue);
    const now = this.clock();
    const outcomes = jobs.map((job) => state.add(structuredClone(job), now));
    this.#notify(queue);
    return outcomes;
  }

  async claim(request: ClaimRequest): Promise<ClaimedJob[]> {
    return this.#state(request.queue).claim(request, this.clock());
  }

  wait(queue: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.#closed || signal?.aborted === true) return Promise.resolve();
    const state = this.#state(queue);
    state.promote(this.clock());
    if (!state.paused && state.ready.hasClaimable()) return Promise.resolve();
    const nextDue = Math.min(
      state.due.peek()?.dueAt ?? Number.POSITIVE_INFINITY,
      state.ready.nextThrottleEnd() ?? Number.POSITIVE_INFINITY,
    );
    const waitMs = Math.max(0, Math.min(timeoutMs, nextDue - this.clock()));
    return new Promise((resolve) => {
      const waiters = this.#waiters.get(queue) ?? new Set<() => void>();
      this.#waiters.set(queue, waiters);
      const done = (): void => {
        clearTimeout(timer);
        waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, waitMs);
      waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  async extend(
    queue: string,
    leases: ReadonlyArray<LeaseRef>,
    leaseTtlMs: number,
  ): Promise<Array<'ok' | 'lost' | 'cancelled'>> {
    const state = this.#state(queue);
    const now = this.clock();
    return leases.map((lease) => {
      const job = state.leased(lease.id, lease.token);
      if (job?.lease === undefined) return 'lost';
      job.lease = { ...job.lease, expiresAt: now + leaseTtlMs };
      return job.cancelRequested === true ? 'cancelled' : 'ok';
    });
  }

  async progress(queue: string, lease: LeaseRef, value: unknown): Promise<boolean> {
    const job = this.#state(queue).leased(lease.id, lease.token);
    if (job === undefined) return false;
    job.progress = structuredClone(value);
    return true;
  }

  async complete(queue: string, lease: LeaseRef, result: unknown, retainMs: number): Promise<boolean> {
    const state = this.#state(queue);
    const job = state.leased(lease.id, lease.token);
    if (job === undefined) return false;
    const now = this.clock();
    state.endAttempt(job, now);
    if (result === undefined) delete job.result;
    else job.result = structuredClone(result);
    job.expiresAt = now + retainMs;
    state.finish(job, 'completed', now);
    this.#notify(queue);
    return true;
  }

  async fail(queue: string, lease: LeaseRef, failure: JobFailure): Promise<boolean> {
    const state = this.#state(queue);
    const job = state.leased(lease.id, lease.token);
    if (job === undefined) return false;
    const now = this.clock();
    state.endAttempt(job, now);
    job.failures++;
    record(job, { attempt: job.failures, kind: failure.kind, error: failure.error, at: now });
    const { outcome } = failure;
    if (outcome.kind === 'drop') {
      state.delete(job);
    } else if (outcome.kind === 'dead') {
      job.deadReason = outcome.reason;
      state.finish(job, 'dead', now);
    } else {
      job.runAt = outcome.runAt;
      state.enter(job, outcome.runAt > now ? 'retry' : 'pending', now);
    }
    this.#notify(queue);
    return true;
  }

  async release(queue: string, lease: LeaseRef): Promise<boolean> {
    const state = this.#state(queue);
    const job = state.leased(lease.id, lease.token);
    if (job === undefined) return false;
    const now = this.clock();
    state.endAttempt(job, now);
    state.requeueFirst(job, now);
    this.#notify(queue);
    return true;
  }

  async recover(queue: string): Promise<number> {
    const state = this.#state(queue);
    const now = this.clock();
    let recovered = 0;
    for (const id of [...(state.byState.get('active') ?? [])]) {
      const job = state.jobs.get(id);
      if (job?.lease === undefined || job.lease.expiresAt > now) continue;
      const worker = job.lease.worker;
      state.endAttempt(job, now);
      job.crashes++;
      record(job, {
        attempt: job.failures + 1,
        kind: 'crash',
        error: {
          name: 'LeaseExpiredError',
          message: `worker ${worker} stopped renewing the lease of attempt ${job.failures + 1} (it crashed or hung); crash ${job.crashes} of ${job.maxCrashes} allowed`,
        },
        at: now,
      });
      if (job.crashes >= job.maxCrashes) {
        job.deadReason = 'CRASH_LIMIT';
        state.finish(job, 'dead', now);
      } else {
        state.requeueFirst(job, now);
      }
      recovered++;
    }
    if (recovered > 0) this.#notify(queue);
    return recovered;
  }

  async counts(queue: string): Promise<QueueCounts> {
    const state = this.#state(queue);
    const now = this.clock();
    state.promote(now);
    const counts = Object.fromEntries([...state.byState].map(([name, ids]) => [name, ids.size])) as Record<
      JobState,
      number
    >;
    let oldestPendingAt: number | undefined;
    for (const id of state.byState.get('pending') ?? []) {
      const job = state.jobs.get(id);
      if (job !== undefined)
        oldestPendingAt = Math.min(
          oldestPendingAt ?? Number.POSITIVE_INFINITY,
          Math.max(job.enqueuedAt, job.runAt),
        );
    }
    return {
      queue,
      paused: state.paused,
      counts,
      ...(oldestPendingAt === undefined ? {} : { oldestPendingAt }),
    };
  }

  async list(
    queue: string,
    request: { readonly state: JobState; readonly limit: number; readonly after?: string },
  ): Promise<JobPage> {
    const state = this.#state(queue);
    state.promote(this.clock());
    const ids = [...(state.byState.get(request.state) ?? [])];
    const start = request.after === undefined ? 0 : ids.indexOf(request.after) + 1;
    const slice = ids.slice(start, start + request.limit);
    const jobs = slice.flatMap((id) => {
      const job = state.jobs.get(id);
      return job === undefined ? [] : [snapshot(job)];
    });
    const last = slice[slice.length - 1];
    return start + request.limit < ids.length && last !== undefined ? { jobs, next: last } : { jobs };
  }

  async get(queue: string, id: string): Promise<JobRecord | undefined> {
    const state = this.#state(queue);
    state.promote(this.clock());
    const job = state.jobs.get(id);
    return job === undefined ? undefined : snapshot(job);
  }

  async cancel(queue: string, id: string): Promise<'cancelled' | 'cancelling' | 'finished' | 'not-found'> {
    const state = this.#state(queue);
    state.promote(this.clock());
    const job = state.jobs.get(id);
    if (job === undefined) return 'not-found';
    if (job.state === 'completed' || job.state === 'dead') return 'finished';
    if (job.state === 'active') {
      job.cancelRequested = true;
      return 'cancelling';
    }
    state.delete(job);
    return 'cancelled';
  }

  async retryDead(queue: string, ids: ReadonlyArray<string> | 'all'): Promise<number> {
    const state = this.#state(queue);
    const now = this.clock();
    let retried = 0;
    for (const id of ids === 'all' ? [...(state.byState.get('dead') ?? [])] : ids) {
      const job = state.jobs.get(id);
      if (job?.state !== 'dead') continue;
      state.leave(job);
      job.failures = 0;
      job.crashes = 0;
      job.runAt = now;
      delete job.deadReason;
      delete job.finishedAt;
      state.enter(job, 'pending', now);
      retried++;
    }
    if (retried > 0) this.#notify(queue);
    return retried;
  }

  async purge(
    queue: string,
    request: { readonly state: 'completed' | 'dead'; readonly ids?: ReadonlyArray<string> },
  ): Promise<number> {
    const state = this.#state(queue);
    let purged = 0;
    for (const id of request.ids ?? [...(state.byState.get(request.state) ?? [])]) {
      const job = state.jobs.get(id);
      if (job?.state !== request.state) continue;
      state.delete(job);
      purged++;
    }
    return purged;
  }

  async pause(queue: string): Promise<void> {
    this.#state(queue).paused = true;
  }

  async resume(queue: string): Promise<void> {
    this.#state(queue).paused = false;
    this.#notify(queue);
  }

  async enqueueTick(
    queue: string,
    tick: { readonly schedule: string; readonly at: number; readonly job: NewJob },
  ): Promise<boolean> {
    const state = this.#state(queue);
    const last = state.ticks.get(tick.schedule);
    if (last !== undefined && tick.at <= last) return false;
    state.ticks.set(tick.schedule, tick.at);
    const [outcome] = await this.add(queue, [tick.job]);
    return outcome?.status === 'added';
  }

  async lastTick(queue: string, schedule: string): Promise<number | undefined> {
    return this.#state(queue).ticks.get(schedule);
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const waiters of this.#waiters.values()) for (const wake of [...waiters]) wake();
  }

  #state(queue: string): QueueState {
    if (this.#closed) throw new ClosedError('the memory job backend', `use queue "${queue}"`);
    let state = this.#queues.get(queue);
    if (state === undefined) {
      state = new QueueState(queue);
      this.#queues.set(queue, state);
    }
    return state;
  }

  #notify(queue: string): void {
    const waiters = this.#waiters.get(queue);
    if (waiters !== undefined) for (const wake of [...waiters]) wake();
  }
}

function record(job: StoredJob, error: StoredJob['errors'][number]): void {
  job.errors.push(error);
  if (job.errors.length > ERROR_HISTORY) job.errors.splice(0, job.errors.length - ERROR_HISTORY);
}

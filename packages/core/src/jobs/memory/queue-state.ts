import { uuidv7 } from '../../events/uuid';
import { DelayHeap, type Due } from '../../transport/memory/delay-heap';
import {
  type AddOutcome,
  type ClaimedJob,
  type ClaimRequest,
  JOB_STATES,
  type JobAttemptError,
  type JobRecord,
  type JobState,
  type NewJob,
} from '../backend';
import { ReadyJobs } from './ready-jobs';

/** How many attempt errors a job keeps. */
export const ERROR_HISTORY = 25;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** A stored job: its record, plus its place in line and a version that invalidates stale entries. */
export interface StoredJob extends Mutable<JobRecord> {
  errors: JobAttemptError[];
  order: number;
  version: number;
  /** When a completed job is removed. */
  expiresAt?: number;
}

/** One queue of the memory backend: every job, its states, its line and its locks. */
export class QueueState {
  readonly jobs: Map<string, StoredJob> = new Map();
  /** Job ids per state, in the order they entered it. */
  readonly byState: Map<JobState, Set<string>> = new Map(
    JOB_STATES.map((state) => [state, new Set<string>()]),
  );
  readonly ready: ReadyJobs = new ReadyJobs((id, version) => {
    const job = this.jobs.get(id);
    return job !== undefined && job.state === 'pending' && job.version === version;
  });
  /** Scheduled and retry jobs by due time. */
  readonly due: DelayHeap<Due & { readonly id: string; readonly version: number }> = new DelayHeap();
  readonly unique: Map<string, { id: string; expiresAt: number }> = new Map();
  readonly ticks: Map<string, number> = new Map();
  paused = false;
  private nextOrder = 0;
  /** Orders below every other, for jobs put back ahead of their group. */
  private nextFrontOrder = -1;

  constructor(readonly name: string) {}

  add(job: NewJob, now: number): AddOutcome {
    if (this.jobs.has(job.id)) return { status: 'duplicate', id: job.id };
    if (job.unique !== undefined) {
      const lock = this.unique.get(job.unique.key);
      const holder = lock !== undefined && lock.expiresAt > now ? this.jobs.get(lock.id) : undefined;
      if (holder !== undefined && holder.state !== 'completed' && holder.state !== 'dead') {
        if (job.unique.mode === 'dedupe') return { status: 'deduplicated', id: holder.id };
        if (holder.state !== 'active') {
          this.leave(holder);
          holder.payload = job.payload;
          holder.runAt = job.runAt;
          this.enter(
            holder,
            holder.runAt > now ? (holder.state === 'retry' ? 'retry' : 'scheduled') : 'pending',
            now,
          );
          return { status: 'debounced', id: holder.id };
        }
      }
      this.unique.set(job.unique.key, { id: job.id, expiresAt: now + job.unique.ttlMs });
    }
    const stored: StoredJob = {
      ...job,
      queue: this.name,
      state: 'pending',
      failures: 0,
      crashes: 0,
      errors: [],
      order: 0,
      version: 0,
    };
    this.jobs.set(job.id, stored);
    this.enter(stored, job.runAt > now ? 'scheduled' : 'pending', now);
    return { status: 'added', id: job.id };
  }

  claim(request: ClaimRequest, now: number): ClaimedJob[] {
    this.promote(now);
    if (this.paused) return [];
    this.ready.setLimits({ concurrency: request.groupConcurrency, rate: request.groupRate }, now);
    const claimed: ClaimedJob[] = [];
    while (claimed.length < request.max) {
      const id = this.ready.take(request.priority, now);
      const job = id === undefined ? undefined : this.jobs.get(id);
      if (job === undefined) break;
      this.move(job, 'active');
      job.startedAt = now;
      job.lease = {
        id: job.id,
        token: uuidv7(),
        worker: request.worker,
        expiresAt: now + request.leaseTtlMs,
      };
      claimed.push(snapshot(job) as ClaimedJob);
    }
    return claimed;
  }

  /** Due scheduled and retry jobs become pending; expired completed jobs and unique locks go. */
  promote(now: number): void {
    this.ready.promoteThrottled(now);
    for (let next = this.due.peek(); next !== undefined && next.dueAt <= now; next = this.due.peek()) {
      this.due.pop();
      const job = this.jobs.get(next.id);
      if (
        job !== undefined &&
        job.version === next.version &&
        (job.state === 'scheduled' || job.state === 'retry')
      ) {
        this.leave(job);
        this.enter(job, 'pending', now);
      }
    }
    for (const id of this.byState.get('completed') ?? []) {
      const job = this.jobs.get(id);
      if (job?.expiresAt === undefined || job.expiresAt > now) break;
      this.delete(job);
    }
    for (const [key, lock] of this.unique) if (lock.expiresAt <= now) this.unique.delete(key);
  }

  /** The job, if `token` is still its lease. */
  leased(id: string, token: string): StoredJob | undefined {
    const job = this.jobs.get(id);
    return job?.state === 'active' && job.lease?.token === token ? job : undefined;
  }

  /** Ends an active job's attempt: its group slot is freed and its lease dropped. */
  endAttempt(job: StoredJob, now: number): void {
    this.leave(job);
    delete job.lease;
    delete job.cancelRequested;
    if (job.group !== undefined) this.ready.finished(job.group, now);
  }

  /** Puts an ended job back in line ahead of its group's other jobs. */
  requeueFirst(job: StoredJob, now: number): void {
    job.order = this.nextFrontOrder--;
    this.enterKeepingOrder(job, 'pending', now);
  }

  enter(job: StoredJob, state: JobState, now: number): void {
    job.order = this.nextOrder++;
    this.enterKeepingOrder(job, state, now);
  }

  /** Marks a job finished (completed or dead) and frees its unique key. */
  finish(job: StoredJob, state: 'completed' | 'dead', now: number): void {
    job.finishedAt = now;
    this.releaseKey(job);
    this.enterKeepingOrder(job, state, now);
  }

  delete(job: StoredJob): void {
    this.leave(job);
    this.releaseKey(job);
    this.jobs.delete(job.id);
  }

  /** Takes a job out of its state's bookkeeping (its line entry is skipped lazily). */
  leave(job: StoredJob): void {
    this.byState.get(job.state)?.delete(job.id);
    job.version++;
    if (job.state === 'pending') this.ready.forget(job);
  }

  private enterKeepingOrder(job: StoredJob, state: JobState, now: number): void {
    job.state = state;
    this.byState.get(state)?.add(job.id);
    if (state === 'pending') {
      this.ready.push(job);
    } else if (state === 'scheduled' || state === 'retry') {
      this.due.push({ dueAt: job.runAt, seq: 0, id: job.id, version: job.version });
    } else if (state === 'completed' && job.expiresAt !== undefined && job.expiresAt <= now) {
      this.delete(job);
    }
  }

  private move(job: StoredJob, state: JobState): void {
    this.byState.get(job.state)?.delete(job.id);
    job.version++;
    job.state = state;
    this.byState.get(state)?.add(job.id);
  }

  private releaseKey(job: StoredJob): void {
    if (job.unique !== undefined && this.unique.get(job.unique.key)?.id === job.id) {
      this.unique.delete(job.unique.key);
    }
  }
}

/** A copy of a stored job without its bookkeeping, safe to hand out. */
export function snapshot(job: StoredJob): JobRecord {
  const { order: _order, version: _version, expiresAt: _expiresAt, ...record } = job;
  return structuredClone({ ...record, errors: [...job.errors] });
}

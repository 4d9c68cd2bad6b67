import { InvalidOptionError } from '../errors';
import type { Logger } from '../logger';
import type { JobBackend, NewJob } from './backend';
import type { AnyJobDefinition } from './define-job';
import type { JobCatalog } from './job-catalog';
import type { ResolvedQueueOptions } from './job-options';
import { compileSchedule, type NextTick } from './schedule-spec';
import type { EnqueueOptions, JobScheduler, SchedulerOptions, ScheduleSpec } from './types';

/** What a scheduler needs from its queue. */
export interface SchedulerHost {
  readonly backend: JobBackend;
  readonly catalog: JobCatalog;
  readonly options: ResolvedQueueOptions;
  readonly logger: Logger;
  /** Validates a payload and builds the job, as `enqueue` does. */
  build(
    definition: AnyJobDefinition,
    payload: unknown,
    options: EnqueueOptions<unknown>,
    now: number,
  ): Promise<NewJob>;
}

interface Schedule {
  readonly id: string;
  readonly definition: AnyJobDefinition;
  readonly payload: unknown;
  readonly options: EnqueueOptions<unknown>;
  readonly next: NextTick;
  /** The latest tick known to be enqueued (by any scheduler), or when this scheduler first saw the schedule. */
  last: number | undefined;
  readonly addedAt: number;
}

const SCHEDULE_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;
const DEFAULT_INTERVAL_MS = 500;
const DEFAULT_MAX_CATCH_UP = 100;

/**
 * Enqueues the ticks of periodic jobs. Each tick goes through `backend.enqueueTick`, which adds it exactly once
 * however many schedulers ask, and each scheduler resumes from the latest tick any of them enqueued.
 */
export class Scheduler implements JobScheduler<never> {
  private readonly schedules = new Map<string, Schedule>();
  private readonly clock: () => number;
  private readonly maxCatchUp: number;
  private readonly timer: ReturnType<typeof setInterval>;
  private running: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly host: SchedulerHost,
    options: SchedulerOptions,
    private readonly onClosed: (scheduler: Scheduler) => void,
  ) {
    const where = 'jobs.scheduler()';
    this.clock = options.clock ?? Date.now;
    this.maxCatchUp = options.maxCatchUp ?? DEFAULT_MAX_CATCH_UP;
    if (!Number.isSafeInteger(this.maxCatchUp) || this.maxCatchUp < 1) {
      throw new InvalidOptionError(
        where,
        'maxCatchUp',
        `must be an integer >= 1, got ${String(options.maxCatchUp)}`,
      );
    }
    const intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;
    if (!Number.isFinite(intervalMs) || intervalMs < 10) {
      throw new InvalidOptionError(
        where,
        'intervalMs',
        `must be a number of milliseconds >= 10, got ${String(intervalMs)}`,
      );
    }
    this.timer = setInterval(() => this.tick(), intervalMs);
    this.timer.unref?.();
    const { signal } = options;
    if (signal?.aborted === true) void this.close();
    else signal?.addEventListener('abort', () => void this.close(), { once: true });
  }

  add(
    id: string,
    job: AnyJobDefinition,
    payload: unknown,
    spec: ScheduleSpec,
    options: EnqueueOptions<unknown> = {},
  ): this {
    const where = `scheduler.add(${JSON.stringify(id)})`;
    if (typeof id !== 'string' || !SCHEDULE_ID.test(id)) {
      throw new InvalidOptionError(
        where,
        'id',
        'must be 1 to 128 letters, digits and "_.:-", starting with a letter or digit',
      );
    }
    const definition = this.host.catalog.require(job, `in ${where}`);
    const now = this.clock();
    for (const option of ['delayMs', 'runAt', 'jobId', 'transaction'] as const) {
      if (options[option] !== undefined)
        throw new InvalidOptionError(where, option, 'is set by the schedule; leave it out');
    }
    this.schedules.set(id, {
      id,
      definition,
      payload,
      options,
      next: compileSchedule(where, spec, now),
      last: undefined,
      addedAt: now,
    });
    this.tick();
    return this;
  }

  remove(id: string): boolean {
    return this.schedules.delete(id);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    await this.running;
    this.onClosed(this);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Runs one pass unless one is running. */
  private tick(): void {
    if (this.closed || this.running !== undefined) return;
    this.running = this.pass().finally(() => {
      this.running = undefined;
    });
  }

  private async pass(): Promise<void> {
    for (const schedule of [...this.schedules.values()]) {
      if (this.closed) return;
      try {
        await this.catchUp(schedule);
      } catch (error) {
        this.host.logger.warn(
          `scheduler: schedule "${schedule.id}" could not enqueue its due ticks; retrying`,
          { error },
        );
      }
    }
  }

  /** Enqueues every due tick of a schedule after the latest one enqueued (at most `maxCatchUp`). */
  private async catchUp(schedule: Schedule): Promise<void> {
    const { backend, options } = this.host;
    if (schedule.last === undefined) {
      schedule.last = (await backend.lastTick(options.queue, schedule.id)) ?? schedule.addedAt;
    }
    const now = this.clock();
    const due: number[] = [];
    for (let at = schedule.next(schedule.last); at !== undefined && at <= now; at = schedule.next(at)) {
      due.push(at);
      if (due.length > this.maxCatchUp) due.shift();
    }
    const first = due[0];
    if (first !== undefined && schedule.next(schedule.last) !== first) {
      this.host.logger.warn(
        `scheduler: schedule "${schedule.id}" missed more than ${this.maxCatchUp} ticks; enqueueing the latest ${this.maxCatchUp}`,
      );
    }
    for (const at of due) {
      const job = await this.host.build(
        schedule.definition,
        schedule.payload,
        { ...schedule.options, jobId: `${schedule.id}@${new Date(at).toISOString()}`, runAt: at },
        now,
      );
      await backend.enqueueTick(options.queue, { schedule: schedule.id, at, job });
      schedule.last = at;
    }
  }
}

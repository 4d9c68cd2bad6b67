import type { JobBackend, JobRecord } from '../../jobs/backend';
import type { JobQueue, JobScheduler, SchedulerOptions, ScheduleSpec } from '../../jobs/types';
import { expect } from '../expect';
import { type TaskJob, taskJob } from './catalog';
import type { JobHarness } from './harness';

/**
 * The job periodic schedules enqueue; its label names the schedule.
 *
 * @example
 * ```ts
 * scheduler.add('nightly', Tick, { label: 'nightly' }, { cron: '0 3 * * *' });
 * ```
 */
export const Tick: TaskJob<'conformance.tick'> = taskJob('conformance.tick');

/**
 * A time source a test moves by hand. Each scheduler reads it through its own {@link ClockReader}, so a test can
 * tell when every scheduler has looked at the clock since it moved.
 *
 * @example
 * ```ts
 * const clock = new FakeClock(Date.UTC(2026, 9, 25));
 * jobs.scheduler({ clock: clock.reader().read });
 * clock.advance(60_000);
 * ```
 */
export class FakeClock {
  #now: number;

  constructor(start: number) {
    this.#now = start;
  }

  /** The current fake time (epoch ms). */
  get now(): number {
    return this.#now;
  }

  /** Moves the clock to `at`; it never goes back. */
  set(at: number): void {
    if (at < this.#now) throw new Error(`the fake clock only moves forward (${at} < ${this.#now})`);
    this.#now = at;
  }

  advance(ms: number): void {
    this.set(this.#now + ms);
  }

  /** A time source that counts its reads. */
  reader(): ClockReader {
    const reader = {
      reads: 0,
      read: (): number => {
        reader.reads++;
        return this.#now;
      },
    };
    return reader;
  }
}

/**
 * One scheduler's view of a {@link FakeClock}.
 *
 * @example
 * ```ts
 * const reader = clock.reader();
 * jobs.scheduler({ clock: reader.read });
 * ```
 */
export interface ClockReader {
  readonly reads: number;
  readonly read: () => number;
}

/**
 * One schedule as every scheduler process of a rig adds it.
 *
 * @example
 * ```ts
 * const schedule: RigSchedule = { id: 'every-minute', spec: { everyMs: 60_000 } };
 * ```
 */
export interface RigSchedule {
  readonly id: string;
  readonly spec: ScheduleSpec;
}

/**
 * A scheduler running as one process: its own queue object (on its own backend when backends share their jobs),
 * its own reader of the shared fake clock.
 *
 * @example
 * ```ts
 * const process = await rig.start();
 * await rig.stop(process);
 * ```
 */
export interface SchedulerProcess {
  readonly index: number;
  readonly scheduler: JobScheduler<typeof Tick>;
  readonly reader: ClockReader;
}

/** How often the rig's schedulers check the fake clock. */
const SCHEDULER_INTERVAL_MS = 10;

/**
 * Runs scheduler processes over one fake clock and one set of schedules, and reads what they enqueued: jobs per
 * schedule (by the label of their payload) and each schedule's last tick as the backend stored it.
 *
 * @example
 * ```ts
 * const rig = await PeriodicRig.open(h, clock, [{ id: 'm', spec: { everyMs: 60_000 } }]);
 * await rig.start();
 * clock.advance(60_000);
 * await rig.settle(async () => (await rig.counts()).get('m') === 1, 'one tick');
 * ```
 */
export class PeriodicRig {
  readonly running: SchedulerProcess[] = [];
  readonly #h: JobHarness;
  readonly #clock: FakeClock;
  readonly #schedules: ReadonlyArray<RigSchedule>;
  readonly #view: JobQueue<typeof Tick>;
  readonly #backend: JobBackend;
  readonly #options: Omit<SchedulerOptions, 'clock' | 'intervalMs'>;
  readonly #closing: Array<Promise<void>> = [];
  #started = 0;

  private constructor(
    h: JobHarness,
    clock: FakeClock,
    schedules: ReadonlyArray<RigSchedule>,
    view: JobQueue<typeof Tick>,
    backend: JobBackend,
    options: Omit<SchedulerOptions, 'clock' | 'intervalMs'>,
  ) {
    this.#h = h;
    this.#clock = clock;
    this.#schedules = schedules;
    this.#view = view;
    this.#backend = backend;
    this.#options = options;
  }

  /** A rig reading through the test's main backend. */
  static async open(
    h: JobHarness,
    clock: FakeClock,
    schedules: ReadonlyArray<RigSchedule>,
    options: Omit<SchedulerOptions, 'clock' | 'intervalMs'> = {},
  ): Promise<PeriodicRig> {
    const view = await h.queue([Tick]);
    return new PeriodicRig(h, clock, schedules, view, await h.backend(), options);
  }

  /** Starts a scheduler process with every schedule of the rig. */
  async start(): Promise<SchedulerProcess> {
    const queue = await this.#h.peerQueue([Tick]);
    const reader = this.#clock.reader();
    const scheduler = queue.scheduler({
      ...this.#options,
      clock: reader.read,
      intervalMs: SCHEDULER_INTERVAL_MS,
    });
    for (const schedule of this.#schedules)
      scheduler.add(schedule.id, Tick, { label: schedule.id }, schedule.spec);
    const process = { index: this.#started++, scheduler, reader };
    this.running.push(process);
    return process;
  }

  /** Closes a scheduler process; when not awaited, the close is awaited by {@link drain}. */
  async stop(process: SchedulerProcess, wait = true): Promise<void> {
    this.running.splice(this.running.indexOf(process), 1);
    const closing = process.scheduler.close();
    this.#closing.push(closing);
    if (wait) await closing;
  }

  /** Awaits the closes {@link stop} did not wait for. */
  async drain(): Promise<void> {
    await Promise.all(this.#closing.splice(0));
  }

  /** Every job the schedulers enqueued, in every state. */
  jobs(): Promise<JobRecord[]> {
    return this.#h.allJobs(this.#view);
  }

  /** Jobs enqueued so far per schedule id, in every state. */
  async counts(): Promise<Map<string, number>> {
    const counts = new Map<string, number>(this.#schedules.map((schedule) => [schedule.id, 0]));
    for (const job of await this.jobs()) {
      const label = (job.payload as { label?: unknown } | undefined)?.label;
      if (typeof label === 'string') counts.set(label, (counts.get(label) ?? 0) + 1);
    }
    return counts;
  }

  /** The latest tick of a schedule the backend recorded. */
  lastTick(id: string): Promise<number | undefined> {
    return this.#backend.lastTick(this.#view.name, id);
  }

  /**
   * Waits until every running scheduler has read the clock at least twice since this call (so it has acted on the
   * current time at least once) and `done` holds.
   */
  async settle(done: () => Promise<boolean>, what: () => string): Promise<void> {
    const marks = this.running.map((process) => [process, process.reader.reads] as const);
    await this.#h.waitFor(
      async () => marks.every(([process, mark]) => process.reader.reads >= mark + 2) && (await done()),
      () => `${what()} at fake time ${new Date(this.#clock.now).toISOString()}`,
    );
  }
}

/**
 * Waits until the rig's schedulers acted on the current fake time and schedule `id` has `count` jobs with
 * `lastTick` as its last tick; fails when more jobs than that were enqueued.
 */
export async function expectTicks(
  rig: PeriodicRig,
  id: string,
  count: number,
  lastTick: number | undefined,
  context = '',
): Promise<void> {
  let seen: { count: number | undefined; lastTick: number | undefined } = {
    count: undefined,
    lastTick: undefined,
  };
  await rig.settle(
    async () => {
      seen = { count: (await rig.counts()).get(id), lastTick: await rig.lastTick(id) };
      return seen.lastTick === lastTick && (seen.count ?? 0) >= count;
    },
    () =>
      `${context}schedule "${id}" to have ${count} jobs, the last for ${iso(lastTick)} (has ${seen.count}, last tick ${iso(seen.lastTick)})`,
  );
  expect(seen.count, `${context}schedule "${id}": exactly one job per tick up to ${iso(lastTick)}`).toBe(
    count,
  );
}

/** An epoch time as ISO text, for messages. */
export function iso(at: number | undefined): string {
  return at === undefined ? 'none' : new Date(at).toISOString();
}

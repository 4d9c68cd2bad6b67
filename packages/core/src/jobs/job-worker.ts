import { uuidv7 } from '../events/uuid';
import type { Logger } from '../logger';
import type { ClaimedJob, JobBackend } from './backend';
import type { JobCatalog } from './job-catalog';
import type { JobEvents } from './job-events';
import { JOB_DEFAULTS, type ResolvedQueueOptions } from './job-options';
import { JobRun, type RunHost } from './job-run';
import type { JobHandlers, JobWorker, WorkOptions } from './types';

/** What a worker needs from its queue. */
export interface WorkerHost {
  readonly backend: JobBackend;
  readonly catalog: JobCatalog;
  readonly options: ResolvedQueueOptions;
  readonly logger: Logger;
  readonly events: JobEvents;
}

const MAX_ERROR_PAUSE_MS = 5_000;

/**
 * One worker: claims up to `concurrency` jobs, runs each through {@link JobRun}, renews every lease it holds with
 * one shared timer, sweeps expired leases of the queue, and on close hands unfinished jobs back.
 */
export class Worker implements JobWorker, RunHost {
  readonly id: string = `worker-${uuidv7()}`;
  state: 'running' | 'closing' | 'closed' = 'running';
  readonly runs: Set<JobRun> = new Set();
  readonly concurrency: number;
  private readonly stopper = new AbortController();
  private wakeLoop: (() => void) | undefined;
  private readonly timers: Array<ReturnType<typeof setInterval>> = [];
  private readonly loopDone: Promise<void>;
  private closing: Promise<void> | undefined;

  constructor(
    readonly host: WorkerHost,
    readonly handlers: JobHandlers<never>,
    options: WorkOptions,
    private readonly onClosed: (worker: Worker) => void,
  ) {
    this.concurrency = options.concurrency ?? JOB_DEFAULTS.concurrency;
    const { leaseTtlMs } = host.options;
    this.timers.push(setInterval(() => void this.renewLeases(), Math.max(50, Math.floor(leaseTtlMs / 3))));
    this.timers.push(setInterval(() => void this.recover(), JOB_DEFAULTS.recoverIntervalMs));
    for (const timer of this.timers) timer.unref?.();
    const { signal } = options;
    if (signal?.aborted === true) void this.close();
    else signal?.addEventListener('abort', () => void this.close(), { once: true });
    this.loopDone = this.loop();
  }

  get active(): number {
    return this.runs.size;
  }

  get logger(): Logger {
    return this.host.logger;
  }

  /** A run ended: its slot is free. */
  ended(run: JobRun): void {
    this.runs.delete(run);
    this.wake();
  }

  close(options: { timeoutMs?: number } = {}): Promise<void> {
    this.closing ??= this.shutdown(options.timeoutMs ?? JOB_DEFAULTS.closeTimeoutMs);
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private async loop(): Promise<void> {
    const { backend, options } = this.host;
    const stopped = this.stopper.signal;
    let errorPauseMs = 0;
    while (!stopped.aborted) {
      const free = this.concurrency - this.runs.size;
      if (free <= 0) {
        await this.idle();
        continue;
      }
      let claimed: ClaimedJob[];
      try {
        claimed = await backend.claim({
          queue: options.queue,
          worker: this.id,
          max: free,
          leaseTtlMs: options.leaseTtlMs,
          groupConcurrency: options.groupConcurrency,
          ...(options.groupRate === undefined ? {} : { groupRate: options.groupRate }),
          priority: options.priority,
        });
        errorPauseMs = 0;
      } catch (error) {
        if (stopped.aborted) break;
        errorPauseMs = Math.min(MAX_ERROR_PAUSE_MS, Math.max(100, errorPauseMs * 2));
        this.logger.warn(
          `job worker ${this.id}: claiming from queue "${options.queue}" failed; retrying in ${errorPauseMs} ms`,
          { error },
        );
        await sleep(errorPauseMs, stopped);
        continue;
      }
      if (stopped.aborted) {
        // Claimed while closing: give them straight back.
        for (const job of claimed) void backend.release(options.queue, job.lease).catch(() => undefined);
        break;
      }
      for (const job of claimed) {
        const run = new JobRun(this, job);
        this.runs.add(run);
        run.start();
      }
      if (claimed.length === 0) {
        await backend.wait(options.queue, JOB_DEFAULTS.idleWaitMs, stopped).catch(async (error: unknown) => {
          this.logger.debug(`job worker ${this.id}: waiting for jobs failed`, { error });
          await sleep(100, stopped);
        });
      }
    }
  }

  /** Waits until a slot frees up or the worker closes. */
  private idle(): Promise<void> {
    if (this.stopper.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      this.wakeLoop = resolve;
    });
  }

  private wake(): void {
    const wake = this.wakeLoop;
    this.wakeLoop = undefined;
    wake?.();
  }

  private async renewLeases(): Promise<void> {
    const runs = [...this.runs].filter((run) => run.holdsLease);
    if (runs.length === 0) return;
    const { backend, options } = this.host;
    try {
      const outcomes = await backend.extend(
        options.queue,
        runs.map((run) => run.lease),
        options.leaseTtlMs,
      );
      outcomes.forEach((outcome, index) => {
        const run = runs[index];
        if (run === undefined || outcome === 'ok') return;
        if (outcome === 'lost') run.leaseLost();
        else run.cancelled();
      });
    } catch (error) {
      this.logger.warn(
        `job worker ${this.id}: renewing ${runs.length} leases failed; they expire unless a later renewal works`,
        { error },
      );
    }
  }

  private async recover(): Promise<void> {
    const { backend, options } = this.host;
    try {
      const recovered = await backend.recover(options.queue);
      if (recovered > 0) {
        this.logger.warn(
          `job queue "${options.queue}": ${recovered} jobs whose worker stopped renewing their lease went back to pending (or dead at their crash limit)`,
        );
      }
    } catch (error) {
      this.logger.debug(`job worker ${this.id}: recovering expired leases failed`, { error });
    }
  }

  private async shutdown(timeoutMs: number): Promise<void> {
    this.state = 'closing';
    this.stopper.abort();
    this.wake();
    await this.loopDone;
    const running = [...this.runs];
    const deadline = new AbortController();
    await Promise.race([Promise.all(running.map((run) => run.settled)), sleep(timeoutMs, deadline.signal)]);
    deadline.abort(); // a pending deadline timer would keep the process alive
    await Promise.all([...this.runs].map((run) => run.handBack()));
    // Outcomes reported at the deadline (a timeout firing, say) finish before the worker says it is closed.
    await Promise.all(running.map((run) => run.settled));
    for (const timer of this.timers) clearInterval(timer);
    this.state = 'closed';
    this.onClosed(this);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) {
      resolve();
      return;
    }
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

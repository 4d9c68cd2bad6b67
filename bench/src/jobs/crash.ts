import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { deleteKeys, uniquePrefix } from '../redis/connection';
import type { BenchQueue, BenchWorker, JobSystem } from './job-system';
import { sleep } from './measures';
import type { CrashRequest } from './requests';

/** The script a holder runs: the contender process, in `--hold` mode. */
const SCRIPT = fileURLToPath(new URL('./contender-process.ts', import.meta.url));
/** Longest wait for a holder to start its job, and for the job to run again after the kill. */
const HOLD_TIMEOUT_MS = 60_000;
const RERUN_TIMEOUT_MS = 150_000;
const STARTED = 'started';

/** One trial on its own queue: the job held by a child process, and a rescuing worker in this one. */
interface Trial {
  readonly prefix: string;
  readonly queue: BenchQueue;
  holder?: ChildProcess;
  rescuer?: BenchWorker;
  rerunAt?: Promise<number>;
}

/**
 * Crash-to-rerun in milliseconds, one figure per trial. Each trial has its own queue with one job, at the library's
 * defaults: a child process (a worker at default settings) starts the job and hangs in it; once every trial's holder
 * holds its job, a worker in this process starts on each queue, and each holder is SIGKILLed at a moment spread
 * evenly (with jitter) over `periodMs` after that, so that the kill falls at every phase of the libraries' lease,
 * renewal and stalled-check timers. The figure is the time from the kill until the job's handler runs again.
 * The trials run side by side: they wait on timers, not on the CPU.
 */
export async function crashToRerun(system: JobSystem, request: CrashRequest): Promise<number[]> {
  const trials: Trial[] = [];
  try {
    for (let i = 0; i < request.trials; i++) {
      const prefix = uniquePrefix(system.name.toLowerCase());
      const queue = await system.open({ prefix, config: 'defaults' });
      trials.push({ prefix, queue });
      await queue.enqueue({ id: i });
    }
    await Promise.all(trials.map((trial) => startHolder(system, trial)));
    for (const trial of trials) {
      let rerun = (_at: number): void => {};
      trial.rerunAt = new Promise<number>((resolve) => {
        rerun = resolve;
      });
      trial.rescuer = await trial.queue.work({ handle: () => rerun(performance.now()) });
    }
    return await Promise.all(
      trials.map(async (trial, index) => {
        await sleep(((index + Math.random()) / trials.length) * request.periodMs);
        const killedAt = performance.now();
        trial.holder?.kill('SIGKILL');
        const rerunAt = await withTimeout(trial.rerunAt as Promise<number>, RERUN_TIMEOUT_MS, 'the rerun');
        return rerunAt - killedAt;
      }),
    );
  } finally {
    for (const trial of trials) {
      trial.holder?.kill('SIGKILL');
      await trial.rescuer?.close();
      await trial.queue.close();
      await deleteKeys(trial.prefix);
    }
  }
}

/** Forks the holder of a trial's job; resolves once its handler started. */
async function startHolder(system: JobSystem, trial: Trial): Promise<void> {
  const holder = fork(SCRIPT, ['--hold', system.name, trial.prefix], { execArgv: process.execArgv });
  trial.holder = holder;
  const started = new Promise<void>((resolve, reject) => {
    holder.on('message', (message) => {
      if (message === STARTED) resolve();
    });
    holder.on('exit', (code, signal) =>
      reject(new Error(`holder exited (${signal ?? code}) before the job`)),
    );
  });
  await withTimeout(started, HOLD_TIMEOUT_MS, 'the holder to start the job');
}

/**
 * The holder's side (in its own process): a worker at the library's defaults whose handler tells the parent it
 * started, then never settles. The parent kills the process.
 */
export async function holdJob(system: JobSystem, prefix: string): Promise<void> {
  process.on('disconnect', () => process.exit(1));
  const queue = await system.open({ prefix, config: 'defaults' });
  await queue.work({
    handle: () => {
      process.send?.(STARTED);
      return new Promise<never>(() => {});
    },
  });
}

async function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

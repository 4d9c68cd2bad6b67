import { fileURLToPath } from 'node:url';
import { rounds } from '../lib/measure';
import { median } from '../lib/stats';
import { MeasuringProcess } from '../lib/worker';
import { fmt, type Goal, ratio } from './report';
import type { JobsRequest } from './requests';

/** The script every contender process runs. */
const SCRIPT = fileURLToPath(new URL('./contender-process.ts', import.meta.url));

/** Reports progress on stderr. */
export type Log = (message: string) => void;

/** A contender process of one part, under the name it has in the tables. */
export interface ContenderProcess {
  readonly name: string;
  readonly process: MeasuringProcess;
}

/** Starts a process per contender (`system`: the job system it measures), runs `body`, then ends them. */
export async function withProcesses<T>(
  contenders: ReadonlyArray<{ readonly name: string; readonly system: string }>,
  body: (processes: ContenderProcess[]) => Promise<T>,
): Promise<T> {
  const started = await Promise.allSettled(
    contenders.map(async ({ name, system }) => ({
      name,
      process: await MeasuringProcess.start(name, SCRIPT, ['--serve', system]),
    })),
  );
  const processes = started.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
  try {
    const failed = started.find((outcome) => outcome.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    return await body(processes);
  } finally {
    await Promise.all(processes.map(({ process }) => process.close()));
  }
}

/**
 * A warm-up of each process's requests, then `runs` interleaved rounds of them (one of each process per round,
 * rotating who starts); per process, per run, the result of each request.
 */
export async function measureRounds<T>(
  processes: ReadonlyArray<ContenderProcess>,
  requests: (process: ContenderProcess) => ReadonlyArray<JobsRequest>,
  runs: number,
  log: Log,
  part: string,
): Promise<T[][][]> {
  const all = async (measured: ContenderProcess): Promise<T[]> => {
    const results: T[] = [];
    for (const request of requests(measured)) results.push((await measured.process.request(request)) as T);
    return results;
  };
  log(`jobs/${part}: warming up`);
  for (const process of processes) await all(process);
  return rounds(processes, runs, all, (round) => log(`jobs/${part}: round ${round} of ${runs}`));
}

/** The results of request `index` over the runs of one process. */
export function column(runs: ReadonlyArray<ReadonlyArray<number>>, index: number): number[] {
  return runs.map((run) => run[index] as number);
}

/** The median of request `index` over the runs of one process. */
export function medianOf(runs: ReadonlyArray<ReadonlyArray<number>>, index: number): number {
  return median(column(runs, index));
}

/** `value` jobs/s is at least `factor` times `reference`. */
export function ratioGoal(description: string, value: number, reference: number, factor: number): Goal {
  return {
    description,
    met: value >= factor * reference,
    detail: `${fmt(value)} vs ${fmt(reference)} jobs/s = ${ratio(value, reference)}, needs ${factor}x`,
  };
}

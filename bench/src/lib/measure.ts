import type { BenchGroup } from './contender';
import type { LatencyResult } from './latency';
import { type BenchSettings, settingsFor } from './settings';
import { median } from './stats';
import { ContenderWorker } from './worker';

/** Everything measured for one contender. */
export interface ContenderResult {
  readonly name: string;
  /** Events per second of each measured run (the warm-up run excluded); empty when not measured. */
  readonly eventsPerSec: ReadonlyArray<number>;
  /** Median p50 and p99 of the latency runs; absent when not measured. */
  readonly latency?: LatencyResult;
}

/**
 * Measures a group with one process per contender: a warm-up run each, then rounds in which every contender
 * runs once, starting with a different one each round, so that a burst of load from elsewhere on the machine
 * spreads over all of them. Throughput rounds first, then latency rounds, each only if the group measures it.
 * The group's own settings override the shared ones.
 */
export async function measureGroup(
  group: BenchGroup,
  shared: BenchSettings,
  onProgress: (message: string) => void,
): Promise<ContenderResult[]> {
  const settings = settingsFor(group, shared);
  const measures = new Set(group.measures ?? ['throughput', 'latency']);
  const started = await Promise.allSettled(
    group.contenders.map((contender) => ContenderWorker.start(group, contender.name)),
  );
  const workers = started.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
  try {
    const failed = started.find((outcome) => outcome.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    onProgress(`${group.id}: warming up`);
    for (const worker of workers) {
      if (measures.has('throughput')) await worker.throughput();
      else await worker.latency();
    }
    const rates = await rounds(
      workers,
      measures.has('throughput') ? settings.runs : 0,
      (worker) => worker.throughput(),
      (round) => onProgress(`${group.id}: throughput round ${round} of ${settings.runs}`),
    );
    const latencies = await rounds(
      workers,
      measures.has('latency') ? settings.latencyRuns : 0,
      (worker) => worker.latency(),
      (round) => onProgress(`${group.id}: latency round ${round} of ${settings.latencyRuns}`),
    );
    return workers.map((worker, index) => {
      const runs = latencies[index] as LatencyResult[];
      const eventsPerSec = rates[index] as number[];
      if (runs.length === 0) return { name: worker.name, eventsPerSec };
      return {
        name: worker.name,
        eventsPerSec,
        latency: { p50Us: median(runs.map((run) => run.p50Us)), p99Us: median(runs.map((run) => run.p99Us)) },
      };
    });
  } finally {
    await Promise.all(workers.map((worker) => worker.close()));
  }
}

/**
 * Runs `measure` once per worker per round, rotating the worker that goes first so that load from elsewhere on the
 * machine spreads over all of them; returns the results per worker.
 */
export async function rounds<W, T>(
  workers: ReadonlyArray<W>,
  count: number,
  measure: (worker: W) => Promise<T>,
  onRound: (round: number) => void,
): Promise<T[][]> {
  const results = workers.map((): T[] => []);
  for (let round = 0; round < count; round++) {
    onRound(round + 1);
    for (let offset = 0; offset < workers.length; offset++) {
      const index = (round + offset) % workers.length;
      (results[index] as T[]).push(await measure(workers[index] as W));
    }
  }
  return results;
}

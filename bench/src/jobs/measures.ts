import type { Contender } from '../lib/contender';
import { collectGarbage } from '../lib/gc';
import { measureLatency } from '../lib/latency';
import { Progress } from '../lib/progress';
import { SETTINGS } from '../lib/settings';
import { deleteKeys, uniquePrefix } from '../redis/connection';
import type { BenchJob, BenchQueue, BenchWorker, JobSystem } from './job-system';
import type { EnqueueRequest, LatencyFigures, LatencyRequest, ProcessRequest } from './requests';

/** Longest wait for the next completion before a run is declared stuck. */
const STALL_MS = 10_000;
/** Time a new worker gets to reach its blocking wait before the clock starts. */
const SETTLE_MS = 250;
/** Jobs per `enqueueMany` / `addBulk` call when a queue is filled before a processing run. */
const FILL_BATCH = 1_000;

/** The jobs `from` to `to` (exclusive), spread round robin over `groups` group keys when there are any. */
export function benchJobs(from: number, to: number, groups = 0): BenchJob[] {
  return Array.from({ length: to - from }, (_, offset) => {
    const id = from + offset;
    return groups > 0 ? { id, group: `g-${id % groups}` } : { id };
  });
}

/** Opens clients on a fresh prefix, runs `body`, then closes them and deletes every key of the run. */
async function withQueues<T>(
  system: JobSystem,
  options: { clients: number; groups?: boolean },
  body: (queues: BenchQueue[], prefix: string) => Promise<T>,
): Promise<T> {
  const prefix = uniquePrefix(system.name.toLowerCase());
  const setup = { prefix, config: 'bench', groups: options.groups === true } as const;
  const queues: BenchQueue[] = [];
  try {
    for (let i = 0; i < options.clients; i++) queues.push(await system.open(setup));
    return await body(queues, prefix);
  } finally {
    for (const queue of queues) await queue.close();
    await deleteKeys(prefix);
  }
}

/**
 * Enqueue throughput in jobs/s: `jobs` jobs in calls of `batch`, with `inFlight / batch` calls outstanding (each
 * lane awaits its call, then sends the next), from the first call until the last one resolved.
 */
export function enqueueRate(system: JobSystem, request: EnqueueRequest): Promise<number> {
  return withQueues(system, { clients: 1 }, async ([queue]) => {
    const client = queue as BenchQueue;
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < request.jobs) {
        const from = next;
        next = Math.min(request.jobs, next + request.batch);
        if (request.batch === 1) await client.enqueue({ id: from });
        else await client.enqueueMany(benchJobs(from, next));
      }
    };
    collectGarbage();
    const startedAt = performance.now();
    await Promise.all(Array.from({ length: Math.max(1, request.inFlight / request.batch) }, lane));
    return (request.jobs / (performance.now() - startedAt)) * 1_000;
  });
}

/**
 * Processing throughput in jobs/s: the jobs are enqueued on a paused queue, a worker (its own client) starts and
 * goes idle, then the clock runs from `resume()` until the library recorded the last completion. Fails when a job
 * ran twice or not at all.
 */
export function processRate(system: JobSystem, request: ProcessRequest): Promise<number> {
  const { jobs, concurrency, groups } = request;
  return withQueues(system, { clients: 2, groups: groups > 0 }, async ([producer, consumer]) => {
    const [fill, work] = [producer as BenchQueue, consumer as BenchQueue];
    await fill.pause();
    for (let from = 0; from < jobs; from += FILL_BATCH)
      await fill.enqueueMany(benchJobs(from, Math.min(jobs, from + FILL_BATCH), groups));
    const runs = new Uint8Array(jobs);
    const completed = new Progress(STALL_MS);
    const worker = await work.work({
      concurrency,
      handle: (id) => {
        runs[id] = (runs[id] as number) + 1;
      },
      onCompleted: () => completed.probe(0),
    });
    try {
      await sleep(SETTLE_MS);
      collectGarbage();
      const startedAt = performance.now();
      await fill.resume();
      await completed.reach(jobs);
      const elapsedMs = performance.now() - startedAt;
      const wrong = runs.reduce((count, times) => count + (times === 1 ? 0 : 1), 0);
      if (wrong > 0) throw new Error(`${system.name}: ${wrong} of ${jobs} jobs did not run exactly once`);
      return (jobs / elapsedMs) * 1_000;
    } finally {
      await worker.close();
    }
  });
}

/** Enqueue → handler start latency at a steady rate, through the shared latency runner (1 ms timer pacing). */
export function enqueueLatency(system: JobSystem, request: LatencyRequest): Promise<LatencyFigures> {
  const contender: Contender = {
    name: system.name,
    async setup(probe) {
      const prefix = uniquePrefix(system.name.toLowerCase());
      const producer = await system.open({ prefix, config: 'bench' });
      const consumer = await system.open({ prefix, config: 'bench' });
      let handled = 0;
      let worker: BenchWorker | undefined;
      const close = async (): Promise<void> => {
        await worker?.close();
        await consumer.close();
        await producer.close();
        await deleteKeys(prefix);
      };
      try {
        worker = await consumer.work({
          concurrency: request.concurrency,
          handle: (id) => {
            probe(id);
            handled += 1;
          },
        });
        await sleep(SETTLE_MS);
      } catch (error) {
        await close();
        throw error;
      }
      return { publish: (id) => producer.enqueue({ id }), handled: () => handled, close };
    },
  };
  return measureLatency(contender, {
    ...SETTINGS,
    latencyRatePerSec: request.ratePerSec,
    latencyDurationMs: request.durationMs,
    latencyPacing: 'timer',
    stallTimeoutMs: STALL_MS,
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

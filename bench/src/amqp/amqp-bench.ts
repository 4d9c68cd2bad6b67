import { fileURLToPath } from 'node:url';
import type { BenchGroup } from '../lib/contender';
import type { LatencyResult } from '../lib/latency';
import { type ContenderResult, rounds } from '../lib/measure';
import { formatTable } from '../lib/report';
import { SETTINGS, settingsFor } from '../lib/settings';
import { median } from '../lib/stats';
import { MeasuringProcess } from '../lib/worker';
import { AMQP_GROUPS, latencyGoal } from './groups';
import { RAW_AMQP_NAME } from './raw-contender';

/** The parts of the AMQP benchmark, selectable as `amqp/<part>`. */
export const AMQP_PARTS = ['throughput', 'latency'] as const;

/** One part of the AMQP benchmark. */
export type AmqpPart = (typeof AMQP_PARTS)[number];

const WORKER = fileURLToPath(new URL('./amqp-worker.ts', import.meta.url));

/**
 * Measures a group like the shared runner does (a process per contender, a warm-up run, interleaved rounds), with
 * workers forked from this folder's own script, so the AMQP groups need no entry in the shared group list.
 */
async function measure(group: BenchGroup, log: (message: string) => void): Promise<ContenderResult[]> {
  const settings = settingsFor(group, SETTINGS);
  const latency = group.measures?.includes('latency') === true;
  const workers = await Promise.all(
    group.contenders.map((contender) =>
      MeasuringProcess.start(contender.name, WORKER, [group.id, contender.name]),
    ),
  );
  try {
    const run = (worker: MeasuringProcess): Promise<unknown> =>
      worker.request({ kind: latency ? 'latency' : 'throughput' });
    log(`${group.id}: warming up`);
    for (const worker of workers) await run(worker);
    const results = await rounds(workers, latency ? settings.latencyRuns : settings.runs, run, (round) =>
      log(`${group.id}: round ${round}`),
    );
    return workers.map((worker, index) => {
      const runs = results[index] ?? [];
      if (!latency) return { name: worker.name, eventsPerSec: runs as number[] };
      const latencies = runs as LatencyResult[];
      return {
        name: worker.name,
        eventsPerSec: [],
        latency: {
          p50Us: median(latencies.map((result) => result.p50Us)),
          p99Us: median(latencies.map((result) => result.p99Us)),
        },
      };
    });
  } finally {
    await Promise.all(workers.map((worker) => worker.close()));
  }
}

/**
 * RabbitMQ: relaybus's AMQP transport through a bus against a raw amqplib loop doing the same work, with the Redis
 * transport for reference; throughput with 1 and 4 consumers, latency at 1,000 events/s.
 */
export async function runAmqpBench(
  parts: ReadonlySet<string>,
  log: (message: string) => void,
  print: (section: string) => void,
): Promise<void> {
  for (const part of AMQP_PARTS) {
    if (!parts.has(part)) continue;
    for (const group of AMQP_GROUPS[part]) {
      const results = await measure(group, log);
      const raw = results.find((result) => result.name === RAW_AMQP_NAME)?.latency?.p99Us;
      const goals = part === 'latency' && raw !== undefined ? [latencyGoal(raw)] : (group.goals ?? []);
      print(formatTable({ ...group, goals }, results, settingsFor(group, SETTINGS)));
    }
  }
}

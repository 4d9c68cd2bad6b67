import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchGoal, BenchGroup } from '../lib/contender';
import type { LatencyResult } from '../lib/latency';
import { type ContenderResult, rounds } from '../lib/measure';
import { formatTable } from '../lib/report';
import { type BenchSettings, SETTINGS } from '../lib/settings';
import { median } from '../lib/stats';
import { MeasuringProcess } from '../lib/worker';
import { REDIS_URL } from '../redis/connection';
import { throughputGoal } from '../redis/goals';
import { NATS_URL } from './connection';
import type { NatsRequest } from './contender-process';
import { CONTENDER_NAMES, natsContender, REDIS_NAME } from './contenders';
import { RAW_NAME } from './raw-contender';
import { RELAYBUS_NAME, TRANSPORT_NAME } from './relaybus-contender';
import { CONSUMER_CONCURRENCY } from './scenario';

/** The parts of the NATS benchmark, selectable as `nats/<part>`. */
export const NATS_PARTS = ['throughput', 'latency'] as const;

/** One part of the NATS benchmark. */
export type NatsPart = (typeof NATS_PARTS)[number];

type Log = (message: string) => void;

const SCRIPT = fileURLToPath(new URL('./contender-process.ts', import.meta.url));

/** Short runs: the machine's two cores are shared by the server, the contenders and whatever else runs. */
const THROUGHPUT: BenchSettings = { ...SETTINGS, events: 20_000, window: 1_000, runs: 3 };
const LATENCY: BenchSettings = {
  ...SETTINGS,
  latencyRatePerSec: 1_000,
  latencyDurationMs: 2_000,
  latencyRuns: 3,
  latencyPacing: 'timer',
};

/** The version of a package whose exports map hides its package.json: read next to its entry point. */
function versionOf(name: string): string {
  const entry = createRequire(import.meta.url).resolve(name);
  const manifest = join(dirname(entry), '..', 'package.json');
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
}

function intro(): string {
  return [
    `### NATS JetStream: relaybus on \`@relaybus/transport-nats\` vs a raw \`@nats-io/jetstream\` ${versionOf('@nats-io/jetstream')} loop`,
    '',
    `NATS at ${NATS_URL} (JetStream, file storage), Redis at ${REDIS_URL} for the reference. Every run uses streams ` +
      '(or keys) of its own and deletes them afterwards. Each contender runs in a Node process of its own; runs are ' +
      'interleaved (one run of each contender per round, rotating who starts) after a warm-up run each.',
    '',
    `- ${RELAYBUS_NAME}: \`bus.publish\` per event (validated), \`bus.subscribe\` in one group with concurrency ` +
      `${CONSUMER_CONCURRENCY} per consumer, each consumer with its own transport and connection.`,
    `- ${RAW_NAME}: \`js.publish\` of a JSON body per event awaiting its ack (connections with \`noAsyncTraces\`, as ` +
      "the transport's own), one durable pull consumer " +
      `(\`consume()\` pulling ${CONSUMER_CONCURRENCY} ahead per consumer, explicit \`ack()\` per message), ` +
      'the handler parses the body.',
    `- ${TRANSPORT_NAME}: \`transport.publish\` of one message per event with the raw loop's body and ` +
      '`transport.subscribe` in the same group setup, the handler parsing the body and acking: the transport without ' +
      'the bus (no envelope, no validation).',
    `- ${REDIS_NAME}: the same bus on \`@relaybus/transport-redis\`.`,
  ].join('\n');
}

/** `name`'s median p99 is at most `factor` times `reference`'s. */
function p99RatioGoal(name: string, reference: string, factor: number): BenchGoal {
  return {
    description: `${name} p99 ≤ ${factor}x the raw loop's`,
    check(results) {
      const p99 = results.find((result) => result.name === name)?.latency?.p99Us ?? Number.NaN;
      const rawP99 = results.find((result) => result.name === reference)?.latency?.p99Us ?? Number.NaN;
      const ratio = p99 / rawP99;
      return {
        met: ratio <= factor,
        detail: `${p99.toFixed(0)} vs ${rawP99.toFixed(0)} µs = ${ratio.toFixed(2)}x, limit ${factor}x`,
      };
    },
  };
}

async function measure(
  consumers: number,
  kind: NatsRequest['kind'],
  settings: BenchSettings,
  log: Log,
): Promise<ContenderResult[]> {
  const started = await Promise.allSettled(
    CONTENDER_NAMES.map((name) => MeasuringProcess.start(name, SCRIPT, ['--serve', name, String(consumers)])),
  );
  const processes = started.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
  try {
    const failed = started.find((outcome) => outcome.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    const request: NatsRequest = { kind, settings };
    const run = (process: MeasuringProcess): Promise<unknown> => process.request(request);
    log(`nats/${kind} (${consumers} consumer${consumers === 1 ? '' : 's'}): warming up`);
    for (const process of processes) await run(process);
    const count = kind === 'throughput' ? settings.runs : settings.latencyRuns;
    const results = await rounds(processes, count, run, (round) =>
      log(`nats/${kind} (${consumers} consumer${consumers === 1 ? '' : 's'}): round ${round} of ${count}`),
    );
    return processes.map((process, index) => {
      const runs = results[index] ?? [];
      if (kind === 'throughput') return { name: process.name, eventsPerSec: runs as number[] };
      const latencies = runs as LatencyResult[];
      return {
        name: process.name,
        eventsPerSec: [],
        latency: {
          p50Us: median(latencies.map((latency) => latency.p50Us)),
          p99Us: median(latencies.map((latency) => latency.p99Us)),
        },
      };
    });
  } finally {
    await Promise.all(processes.map((process) => process.close()));
  }
}

function group(
  id: string,
  title: string,
  kind: NatsRequest['kind'],
  consumers: number,
  settings: BenchSettings,
): BenchGroup {
  return {
    id,
    title,
    baseline: RAW_NAME,
    measures: [kind],
    settings,
    contenders: CONTENDER_NAMES.flatMap((name) => natsContender(name, { consumers }) ?? []),
    goals:
      kind === 'throughput'
        ? [RELAYBUS_NAME, TRANSPORT_NAME].map((name) =>
            throughputGoal(name, RAW_NAME, 0.7, `${name} ≥ 70% of the raw loop's events/s`),
          )
        : [RELAYBUS_NAME, TRANSPORT_NAME].map((name) => p99RatioGoal(name, RAW_NAME, 1.5)),
  };
}

/** Runs the given parts of the NATS benchmark in order, printing each table as it completes. */
export async function runNatsBench(
  parts: ReadonlySet<string>,
  log: Log,
  print: (section: string) => void,
): Promise<void> {
  print(intro());
  if (parts.has('throughput')) {
    for (const consumers of [1, 4]) {
      const title = `NATS, publish to handled, one group, ${consumers} consumer${consumers === 1 ? '' : 's'}`;
      const table = group(`nats/throughput-${consumers}`, title, 'throughput', consumers, THROUGHPUT);
      print(formatTable(table, await measure(consumers, 'throughput', THROUGHPUT, log), SETTINGS));
    }
  }
  if (parts.has('latency')) {
    const title = 'NATS, publish → handler entry at a steady 1,000 events/s, one consumer';
    const table = group('nats/latency-1k', title, 'latency', 1, LATENCY);
    print(formatTable(table, await measure(1, 'latency', LATENCY, log), SETTINGS));
  }
}

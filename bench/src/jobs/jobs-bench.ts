import { createRequire } from 'node:module';
import { median } from '../lib/stats';
import { connect, REDIS_URL } from '../redis/connection';
import { BULLMQ_NAME } from './bullmq-jobs';
import { RELAYBUS_NAME } from './relaybus-jobs';
import { fmt, ms, ratio, seconds, section, spread } from './report';
import type { CrashRequest, JobsRequest, LatencyFigures, ProcessRequest } from './requests';
import { column, type Log, measureRounds, medianOf, ratioGoal, withProcesses } from './runner';

/** The parts of the jobs benchmark, selectable as `jobs/<part>`. */
export const JOBS_PARTS = ['enqueue', 'process', 'latency', 'crash', 'groups'] as const;

/** One part of the jobs benchmark. */
export type JobsPart = (typeof JOBS_PARTS)[number];

/** Sizes of each part, chosen so that the whole group takes about 5 minutes on a 2-core machine. */
const SETTINGS = {
  enqueue: { jobs: 20_000, inFlight: 1_000, batch: 100, runs: 3 },
  process: {
    runs: 3,
    levels: [
      { concurrency: 1, jobs: 4_000 },
      { concurrency: 50, jobs: 20_000 },
    ],
  },
  latency: { ratePerSec: 1_000, durationMs: 2_000, concurrency: 10, runs: 5 },
  /** Kills spread over the longest timer a rerun waits for: relaybus's lease, BullMQ's stalled-job check. */
  crash: { trials: 5, periodMs: { [RELAYBUS_NAME]: 5_000, [BULLMQ_NAME]: 30_000 } },
  groups: { jobs: 30_000, groups: 10_000, concurrency: 50, runs: 3 },
} as const;

const contenders = [RELAYBUS_NAME, BULLMQ_NAME].map((name) => ({ name, system: name }));
const ROUNDS = (runs: number): string => `R = ${runs} interleaved runs after 1 warm-up (median shown)`;

/**
 * Table rows of throughput runs, relaybus then BullMQ for each request (`labels`: what each did in it), with the
 * ratio to BullMQ's median in the same request and the spread of the runs.
 */
function versusRows(
  relaybus: ReadonlyArray<ReadonlyArray<number>>,
  bullmq: ReadonlyArray<ReadonlyArray<number>>,
  labels: ReadonlyArray<readonly [string, string]>,
): string[][] {
  return labels.flatMap(([relaybusLabel, bullmqLabel], index) => {
    const rate = medianOf(relaybus, index);
    const reference = medianOf(bullmq, index);
    return [
      [RELAYBUS_NAME, relaybusLabel, fmt(rate), ratio(rate, reference), spread(column(relaybus, index))],
      [BULLMQ_NAME, bullmqLabel, fmt(reference), '1.00x', spread(column(bullmq, index))],
    ];
  });
}

async function enqueuePart(log: Log): Promise<string> {
  const { jobs, inFlight, batch, runs } = SETTINGS.enqueue;
  const requests: JobsRequest[] = [
    { part: 'enqueue', jobs, batch: 1, inFlight },
    { part: 'enqueue', jobs, batch, inFlight },
  ];
  const results = await withProcesses(contenders, (processes) =>
    measureRounds<number>(processes, () => requests, runs, log, 'enqueue'),
  );
  const [relaybus, bullmq] = results as [number[][], number[][]];
  const rows = versusRows(relaybus, bullmq, [
    ['`enqueue` per job', '`Queue.add` per job'],
    [`\`enqueueMany\` of ${batch}`, `\`Queue.addBulk\` of ${batch}`],
  ]);
  return section(
    'Jobs, enqueue throughput (no worker)',
    [
      `Settings: N = ${fmt(jobs)} jobs per run, ${fmt(inFlight)} jobs in flight (${fmt(inFlight)} single calls, or ` +
        `${inFlight / batch} bulk calls of ${batch}; each caller awaits its call, then makes the next) · ${ROUNDS(runs)}.`,
    ],
    ['contender', 'call', 'jobs/s', 'ratio vs BullMQ', 'spread'],
    rows,
    [ratioGoal(`bulk enqueue ≥ 3x BullMQ's addBulk`, medianOf(relaybus, 1), medianOf(bullmq, 1), 3)],
  );
}

async function processPart(log: Log): Promise<string> {
  const { levels, runs } = SETTINGS.process;
  const requests: ProcessRequest[] = levels.map(({ concurrency, jobs }) => ({
    part: 'process',
    jobs,
    concurrency,
    groups: 0,
  }));
  const results = await withProcesses(contenders, (processes) =>
    measureRounds<number>(processes, () => requests, runs, log, 'process'),
  );
  const [relaybus, bullmq] = results as [number[][], number[][]];
  const rows = versusRows(
    relaybus,
    bullmq,
    levels.map(({ concurrency }) => [String(concurrency), String(concurrency)]),
  );
  return section(
    'Jobs, processing no-op jobs, one worker',
    [
      'The jobs are enqueued on a paused queue; a worker on its own connection starts and goes idle; the clock runs ' +
        "from `resume()` until the library recorded the last completion (BullMQ: the worker's `completed` event; " +
        "relaybus: the backend's `complete` call resolved). Completed jobs are removed at once on both sides " +
        '(BullMQ `removeOnComplete`, relaybus `retainCompletedMs: 0`); everything else at the defaults (relaybus: ' +
        '5 s leases renewed every third of it). Each run checks that every job ran exactly once.',
      `Settings: ${levels.map(({ concurrency, jobs }) => `N = ${fmt(jobs)} jobs at concurrency ${concurrency}`).join(', ')} · ${ROUNDS(runs)}.`,
    ],
    ['contender', 'concurrency', 'jobs/s', 'ratio vs BullMQ', 'spread'],
    rows,
    levels.map(({ concurrency }, index) =>
      ratioGoal(
        `processing ≥ 2x BullMQ at concurrency ${concurrency}`,
        medianOf(relaybus, index),
        medianOf(bullmq, index),
        2,
      ),
    ),
  );
}

async function latencyPart(log: Log): Promise<string> {
  const { ratePerSec, durationMs, concurrency, runs } = SETTINGS.latency;
  const request: JobsRequest = { part: 'latency', ratePerSec, durationMs, concurrency };
  const results = await withProcesses(contenders, (processes) =>
    measureRounds<LatencyFigures>(processes, () => [request], runs, log, 'latency'),
  );
  const [relaybus, bullmq] = results.map((runsOf) => {
    const figures = runsOf.map((run) => run[0] as LatencyFigures);
    return { p50Us: median(figures.map((f) => f.p50Us)), p99Us: median(figures.map((f) => f.p99Us)) };
  }) as [LatencyFigures, LatencyFigures];
  return section(
    `Jobs, enqueue → handler start latency at a steady ${fmt(ratePerSec)} jobs/s`,
    [
      'Time from just before the enqueue call to handler entry, the enqueuing client and the worker on connections of ' +
        'their own in one process, paced by a 1 ms timer as the Redis latency groups are.',
      `Settings: ${fmt(ratePerSec)} jobs/s for ${durationMs} ms per run, one worker with concurrency ${concurrency} · ` +
        `median p50 and median p99 of R = ${runs} interleaved runs after 1 warm-up.`,
    ],
    ['contender', 'p50 ms', 'p99 ms', 'p99 ratio vs BullMQ'],
    [
      [RELAYBUS_NAME, ms(relaybus.p50Us), ms(relaybus.p99Us), ratio(relaybus.p99Us, bullmq.p99Us)],
      [BULLMQ_NAME, ms(bullmq.p50Us), ms(bullmq.p99Us), '1.00x'],
    ],
    [
      {
        description: "relaybus p99 lower than BullMQ's in the same run",
        met: relaybus.p99Us < bullmq.p99Us,
        detail: `${ms(relaybus.p99Us)} ms vs ${ms(bullmq.p99Us)} ms`,
      },
    ],
  );
}

async function crashPart(log: Log): Promise<string> {
  const { trials, periodMs } = SETTINGS.crash;
  log(`jobs/crash: ${trials} trials per contender, all at once (up to 2 minutes: BullMQ's defaults)`);
  const results = await withProcesses(contenders, (processes) =>
    Promise.all(
      processes.map(async ({ name, process }) => {
        const request: CrashRequest = {
          part: 'crash',
          trials,
          periodMs: periodMs[name as keyof typeof periodMs],
        };
        return (await process.request(request, 240_000)) as number[];
      }),
    ),
  );
  const [relaybus, bullmq] = results as [number[], number[]];
  const row = (name: string, defaults: string, values: number[]): string[] => [
    name,
    defaults,
    seconds(median(values)),
    seconds(Math.max(...values)),
    [...values]
      .sort((a, b) => a - b)
      .map(seconds)
      .join(', '),
  ];
  const worst = Math.max(...relaybus);
  return section(
    'Jobs, crash to rerun after SIGKILL',
    [
      'Each trial has its own queue with one job, both libraries at their defaults. A worker in a child process starts ' +
        'the job and hangs in it; a second worker (in the contender process) starts on the queue; then the child is ' +
        'SIGKILLed, at a moment spread evenly with jitter over one period of the timers a rerun waits for (relaybus: ' +
        'the 5 s lease; BullMQ: the 30 s stalled-job check), so that kills fall at every phase of them. The figure is ' +
        "the time from the kill until the second worker's handler starts the job. All trials, of both contenders, run " +
        'at once, each on its own queue and processes: they wait on timers, not on the CPU.',
      `Settings: ${trials} trials per contender; relaybus \`leaseTtlMs\` 5,000 (renewed every third of it, expired ` +
        'leases swept every second); BullMQ `lockDuration` 30,000 (renewed every 15 s), `stalledInterval` 30,000.',
    ],
    ['contender', 'defaults', 'median s', 'max s', 'trials s'],
    [
      row(RELAYBUS_NAME, 'lease 5 s', relaybus),
      row(BULLMQ_NAME, 'lock 30 s, stalled check every 30 s', bullmq),
    ],
    [
      {
        description: 'relaybus crash-to-rerun under 10 s (every trial)',
        met: worst < 10_000,
        detail: `max ${seconds(worst)} s, median ${seconds(median(relaybus))} s; BullMQ median ${seconds(median(bullmq))} s`,
      },
    ],
  );
}

async function groupsPart(log: Log): Promise<string> {
  const { jobs, groups, concurrency, runs } = SETTINGS.groups;
  const grouped = `${RELAYBUS_NAME}, ${fmt(groups)} groups`;
  const variants = [
    { name: `${RELAYBUS_NAME}, no groups`, system: RELAYBUS_NAME },
    { name: grouped, system: RELAYBUS_NAME },
  ];
  const request = (groupKeys: number): ProcessRequest => ({
    part: 'process',
    jobs,
    concurrency,
    groups: groupKeys,
  });
  const results = await withProcesses(variants, (processes) =>
    measureRounds<number>(
      processes,
      ({ name }) => [request(name === grouped ? groups : 0)],
      runs,
      log,
      'groups',
    ),
  );
  const [plain, withGroups] = results.map((runsOf) => column(runsOf, 0)) as [number[], number[]];
  const plainRate = median(plain);
  const groupsRate = median(withGroups);
  const cost = 1 - groupsRate / plainRate;
  return section(
    `Jobs, processing with ${fmt(groups)} active groups`,
    [
      `The processing run of \`jobs/process\` at concurrency ${concurrency}, twice: the jobs without a group key, and ` +
        `with \`groups: { concurrency: 1 }\` and the jobs spread round robin over ${fmt(groups)} group keys (so every ` +
        'group has pending jobs through the first two thirds of the run, and at most one job of a group runs at a ' +
        "time). BullMQ's open-source edition has no groups (they are a BullMQ Pro feature), so it has no figure here.",
      `Settings: N = ${fmt(jobs)} jobs per run (${fmt(jobs / groups)} per group), one worker with concurrency ` +
        `${concurrency} · ${ROUNDS(runs)}.`,
    ],
    ['contender', 'jobs/s', 'ratio vs no groups', 'spread'],
    [
      [variants[0]?.name ?? '', fmt(plainRate), '1.00x', spread(plain)],
      [grouped, fmt(groupsRate), ratio(groupsRate, plainRate), spread(withGroups)],
      [`${BULLMQ_NAME} (groups are in BullMQ Pro only)`, 'n/a', '', ''],
    ],
    [
      {
        description: `${fmt(groups)} active groups cost at most 10% of throughput`,
        met: cost <= 0.1,
        detail: `${fmt(groupsRate)} vs ${fmt(plainRate)} jobs/s: ${(cost * 100).toFixed(1)}% ${cost >= 0 ? 'slower' : 'faster'}`,
      },
    ],
  );
}

const PARTS: Record<JobsPart, (log: Log) => Promise<string>> = {
  enqueue: enqueuePart,
  process: processPart,
  latency: latencyPart,
  crash: crashPart,
  groups: groupsPart,
};

/** What every part shares: versions, where it runs, and how. */
async function intro(): Promise<string> {
  const bullmq = (createRequire(import.meta.url)('bullmq/package.json') as { version: string }).version;
  const redis = connect();
  let server = 'unknown';
  try {
    server = /redis_version:([^\r\n]+)/.exec(await redis.info('server'))?.[1] ?? server;
  } finally {
    redis.disconnect();
  }
  return [
    `### Jobs: relaybus (\`@relaybus/transport-redis\` job backend) vs BullMQ ${bullmq}`,
    '',
    `Redis ${server} at ${REDIS_URL}; a unique key prefix per run, its keys deleted after it. Each contender runs ` +
      'in its own Node process; runs are interleaved (one run of each contender per round, rotating who starts). ' +
      'relaybus: `createJobQueue` on `redisJobBackend`, every payload validated by zod on enqueue and again before ' +
      'the handler; BullMQ does not validate. The payload is `{ id, name }`, the handler a no-op.',
  ].join('\n');
}

/** Runs the given parts of the jobs benchmark in order, printing each part's section as it completes. */
export async function runJobsBench(
  parts: ReadonlySet<JobsPart>,
  log: Log,
  print: (section: string) => void,
): Promise<void> {
  print(await intro());
  for (const part of JOBS_PARTS) if (parts.has(part)) print(await PARTS[part](log));
}

// Measures what 10,000 active groups cost: no-op jobs processed per second by one worker (concurrency 50) when the
// jobs are ungrouped, spread over 10 groups (groupConcurrency 5, so the groups alone never hold the worker back),
// and spread over 10,000 groups (groupConcurrency 1), on the same Redis, in interleaved rounds. Run from the package:
//   REDIS_URL=redis://127.0.0.1:6379 node --import tsx --conditions=@relaybus/source test/bench/jobs-groups-throughput.ts
import { createJobQueue, silentLogger } from '@relaybus/core';
import { redisTransport } from '@relaybus/transport-redis';
import { Redis } from 'ioredis';
import { unlinkUnder } from '../redis-fixture';
import { Task } from '../support/job-definitions';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const JOBS = Number(process.env['JOBS'] ?? 20_000);
const GROUPS = Number(process.env['GROUPS'] ?? 10_000);
const ROUNDS = Number(process.env['ROUNDS'] ?? 3);
const CONCURRENCY = 50;

async function round(groups: number, index: number): Promise<number> {
  const redis = new Redis(REDIS_URL);
  const prefix = `rb-bench:groups:${process.pid}:${index}`;
  const transport = redisTransport({ redis, prefix });
  const jobs = createJobQueue({
    transport,
    jobs: [Task],
    logger: silentLogger,
    retainCompletedMs: 0,
    groups: { concurrency: groups > 0 && groups < CONCURRENCY ? CONCURRENCY / groups : 1 },
  });
  for (let start = 0; start < JOBS; start += 1_000) {
    await jobs.enqueueMany(
      Array.from({ length: Math.min(1_000, JOBS - start) }, (_, n) => ({
        job: Task,
        payload: { label: String(start + n) },
        options: groups > 0 ? { group: `g${(start + n) % groups}` } : {},
      })),
    );
  }
  let done = 0;
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const began = performance.now();
  jobs.work(
    {
      [Task.type]: () => {
        if (++done === JOBS) finish();
      },
    },
    { concurrency: CONCURRENCY },
  );
  await finished;
  const perSecond = JOBS / ((performance.now() - began) / 1_000);
  await jobs.close();
  await transport.close();
  await unlinkUnder(redis, prefix);
  redis.disconnect();
  return perSecond;
}

const modes = [
  { name: 'ungrouped', groups: 0 },
  { name: '10 groups (concurrency 5 each)', groups: 10 },
  { name: `${GROUPS} groups (concurrency 1 each)`, groups: GROUPS },
];
const results = modes.map(() => [] as number[]);
for (let index = 0; index < ROUNDS; index++) {
  for (const [mode, { groups }] of modes.entries())
    results[mode]?.push(await round(groups, index * modes.length + mode));
}
const median = (values: number[]): number =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
const baseline = median(results[0] ?? []);
console.log(
  `${JOBS} no-op jobs, one worker of concurrency ${CONCURRENCY}, median of ${ROUNDS} interleaved rounds`,
);
for (const [mode, { name }] of modes.entries()) {
  const perSecond = median(results[mode] ?? []);
  const runs = (results[mode] ?? []).map((value) => value.toFixed(0)).join(', ');
  const cost = mode === 0 ? '' : `, ${((1 - perSecond / baseline) * 100).toFixed(1)}% below ungrouped`;
  console.log(`  ${name.padEnd(34)} ${perSecond.toFixed(0).padStart(6)} jobs/s (${runs})${cost}`);
}

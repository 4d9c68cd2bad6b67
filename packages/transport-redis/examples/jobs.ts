import { createJobQueue, defineJob } from '@relaybus/core';
import { redisTransport } from '@relaybus/transport-redis';
import { Redis } from 'ioredis';
import { z } from 'zod';

const Recalc = defineJob('tasks:recalculate_critical_path', z.object({ projectId: z.string() }));

const redis = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379');
const transport = redisTransport({ redis, prefix: process.env['RELAYBUS_PREFIX'] ?? 'tasks' });
// The queue takes the transport's job backend: the same client and prefix, keys `<prefix>:j:{default}:...`.
const jobs = createJobQueue({ transport, jobs: [Recalc], groups: { concurrency: 1 } });

let handled: () => void = () => {};
const done = new Promise<void>((resolve) => {
  handled = resolve;
});

// An idle worker blocks on Redis, so a new job starts within a round trip of its enqueue.
const worker = jobs.work(
  {
    [Recalc.type]: async ({ projectId }, ctx) => {
      console.log(`recalculating ${projectId}, attempt ${ctx.attempt}`);
      handled();
      return { projectId, tasks: 42 };
    },
  },
  { concurrency: 8 },
);

// One job of project p1 at a time, in enqueue order, across every worker process.
const { id } = await jobs.enqueue(Recalc, { projectId: 'p1' }, { group: 'p1' });
await done;

// On shutdown: stop claiming, let running jobs finish (bounded), hand the rest back without counting an attempt.
await worker.close({ timeoutMs: 10_000 });
const job = await jobs.get(id);
console.log(`job ${job?.state}: ${JSON.stringify(job?.result)}`);
await jobs.close();
await transport.close();
await redis.quit(); // the client is yours

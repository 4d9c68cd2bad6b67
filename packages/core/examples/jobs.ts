import { createJobQueue, defineJob, NonRetryableError } from '@relaybus/core';
import { z } from 'zod';

// A job type: its payload schema, and defaults every enqueue starts from.
const Recalculate = defineJob('tasks:recalculate_critical_path', z.object({ projectId: z.string() }), {
  attempts: 3,
  timeoutMs: 60_000,
  group: (payload) => payload.projectId, // with groups.concurrency 1: one at a time per project, in order
});

const jobs = createJobQueue({ jobs: [Recalculate], groups: { concurrency: 1 } });

let finished = (): void => {};
const done = new Promise<void>((resolve) => {
  finished = resolve;
});

const worker = jobs.work(
  {
    // The payload is typed by the job; the return value is stored as the job's result.
    [Recalculate.type]: async ({ projectId }, ctx) => {
      if (projectId === '') throw new NonRetryableError('no project: retrying cannot help');
      ctx.logger.info(`recalculating ${projectId}, attempt ${ctx.attempt}`);
      finished();
      return { projectId, criticalTasks: 4 };
    },
  },
  { concurrency: 10 },
);

// Five enqueues within the debounce window run the job once, with the last payload, 100 ms after the last one.
for (let i = 0; i < 5; i++) {
  await jobs.enqueue(
    Recalculate,
    { projectId: 'p1' },
    { delayMs: 100, unique: { ttlMs: 60_000, mode: 'debounce' } },
  );
}
await done;
await worker.close({ timeoutMs: 5_000 }); // stops claiming, waits for running jobs, hands the rest back

const { counts } = await jobs.inspect();
const [job] = (await jobs.list({ state: 'completed' })).jobs;
console.log(`completed ${counts.completed}, result ${JSON.stringify(job?.result)}`);
await jobs.close();

import { Queue, Worker } from 'bullmq';
import { payload } from '../core/bench-event';
import { connectionOptions } from '../redis/connection';
import { type BenchJob, type BenchQueue, JOB_TYPE, type JobSystem, QUEUE } from './job-system';

/** The contender's name in tables and goals. */
export const BULLMQ_NAME = 'BullMQ';

/**
 * BullMQ (open-source edition): `Queue.add` / `Queue.addBulk` and a `Worker`. In `bench` runs every job is added
 * with `removeOnComplete` and `removeOnFail`; in `defaults` runs nothing is set. BullMQ does not validate payloads.
 */
export const bullmqJobs: JobSystem = {
  name: BULLMQ_NAME,
  hasGroups: false,
  async open(setup) {
    if (setup.groups === true) throw new Error('BullMQ has no groups outside BullMQ Pro');
    const connection = connectionOptions();
    const { prefix } = setup;
    const queue = new Queue(QUEUE, {
      connection,
      prefix,
      ...(setup.config === 'bench'
        ? { defaultJobOptions: { removeOnComplete: true, removeOnFail: true } }
        : {}),
    });
    await queue.waitUntilReady();
    const workers = new Set<Worker>();
    const toJob = (job: BenchJob) => ({ name: JOB_TYPE, data: payload(job.id) });
    const client: BenchQueue = {
      async enqueue(job) {
        await queue.add(JOB_TYPE, payload(job.id));
      },
      async enqueueMany(batch) {
        await queue.addBulk(batch.map(toJob));
      },
      pause: () => queue.pause(),
      resume: () => queue.resume(),
      async work(work) {
        const worker = new Worker<{ id: number }>(QUEUE, async (job) => work.handle(job.data.id), {
          connection,
          prefix,
          ...(work.concurrency === undefined ? {} : { concurrency: work.concurrency }),
        });
        const { onCompleted } = work;
        if (onCompleted !== undefined) worker.on('completed', () => onCompleted());
        worker.on('error', (error) => console.error(`BullMQ worker: ${error.message}`));
        workers.add(worker);
        await worker.waitUntilReady();
        return {
          async close() {
            workers.delete(worker);
            await worker.close();
          },
        };
      },
      async close() {
        await Promise.all([...workers].map((worker) => worker.close()));
        await queue.close();
      },
    };
    return client;
  },
};

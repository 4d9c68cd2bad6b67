import { Queue, Worker } from 'bullmq';
import { payload } from '../core/bench-event';
import type { Contender } from '../lib/contender';
import { Batcher, chunks } from './batcher';
import { connectionOptions, deleteKeys, uniquePrefix } from './connection';
import { CONSUMER_CONCURRENCY, PUBLISH_BATCH, type RedisScenario, TOPIC } from './scenario';

/** The contender's name in tables and goals. */
export const BULLMQ_NAME = 'BullMQ';

/**
 * BullMQ doing the same work: `Queue.addBulk` batches, and one `Worker` per consumer with the same concurrency
 * as relaybus. Completed jobs are removed (`removeOnComplete`), as a high-volume queue would be set up.
 */
export function bullmqContender(scenario: RedisScenario): Contender {
  return {
    name: BULLMQ_NAME,
    async setup(probe) {
      const prefix = uniquePrefix('bullmq');
      const connection = connectionOptions();
      const queue = new Queue(TOPIC, { connection, prefix });
      await queue.waitUntilReady();
      let handled = 0;
      const workers = Array.from(
        { length: scenario.consumers },
        () =>
          new Worker<{ id: number; name: string }>(
            TOPIC,
            async (job) => {
              probe(job.data.id);
              handled += 1;
            },
            { connection, prefix, concurrency: CONSUMER_CONCURRENCY },
          ),
      );
      await Promise.all(workers.map((worker) => worker.waitUntilReady()));
      const batcher = new Batcher(async (ids) => {
        for (const batch of chunks(ids, PUBLISH_BATCH)) {
          await queue.addBulk(
            batch.map((id) => ({
              name: TOPIC,
              data: payload(id),
              opts: { removeOnComplete: true, removeOnFail: true },
            })),
          );
          if (scenario.consumers === 0) {
            for (const id of batch) {
              probe(id);
              handled += 1;
            }
          }
        }
      });
      return {
        publish: (id) => batcher.add(id),
        handled: () => handled,
        async close() {
          await Promise.all(workers.map((worker) => worker.close()));
          await queue.close();
          await deleteKeys(prefix);
        },
      };
    },
  };
}

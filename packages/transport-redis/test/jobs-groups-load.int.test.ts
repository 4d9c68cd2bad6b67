import { createJobQueue, type JobQueue, silentLogger } from '@relaybus/core';
import { waitFor } from '@relaybus/core/testing';
import { redisTransport } from '@relaybus/transport-redis';
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { useRedis } from './redis-fixture';
import { newClient } from './support/client';
import { forEachClient } from './support/for-each-client';
import { Task } from './support/job-definitions';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const QUEUE = 'groups-load';
const WORKERS = 3;
const GROUPS = 20;
const JOBS_PER_GROUP = 25;

/** What the handlers of every worker saw: starts in order, and the most jobs of each group running at once. */
class GroupLog {
  readonly starts = new Map<string, string[]>();
  readonly #running = new Map<string, number>();
  readonly peak = new Map<string, number>();
  finished = 0;

  async run(group: string, label: string): Promise<void> {
    const running = (this.#running.get(group) ?? 0) + 1;
    this.#running.set(group, running);
    this.peak.set(group, Math.max(this.peak.get(group) ?? 0, running));
    this.starts.set(group, [...(this.starts.get(group) ?? []), label]);
    await new Promise((resolve) => setTimeout(resolve, 1 + Math.random() * 4));
    this.#running.set(group, (this.#running.get(group) ?? 1) - 1);
    this.finished++;
  }
}

forEachClient((flavour) => {
  describe('groups under load', () => {
    const { prefix } = useRedis('jobs-groups', flavour);
    const closing: Array<() => Promise<void>> = [];
    afterEach(async () => {
      for (const close of closing.splice(0)) await close();
    });

    /** A worker "process": its own client, transport and queue. */
    function worker(keyPrefix: string, concurrency: number): JobQueue<typeof Task> {
      const redis = newClient({ url: REDIS_URL }, flavour) as Redis;
      const transport = redisTransport({ redis, prefix: keyPrefix });
      const jobs = createJobQueue({
        transport,
        jobs: [Task],
        queue: QUEUE,
        logger: silentLogger,
        groups: { concurrency },
      });
      closing.push(async () => {
        await jobs.close({ timeoutMs: 2_000 });
        await transport.close();
        redis.disconnect();
      });
      return jobs;
    }

    for (const concurrency of [1, 3]) {
      it(`never runs more than ${concurrency} jobs of a group at once across ${WORKERS} workers, and takes each group's jobs in enqueue order`, async () => {
        const keyPrefix = prefix();
        const queues = Array.from({ length: WORKERS }, () => worker(keyPrefix, concurrency));
        const log = new GroupLog();
        for (const jobs of queues) {
          jobs.work(
            { [Task.type]: ({ label }) => log.run(label.split('/')[0] ?? '', label) },
            { concurrency: 16 },
          );
        }
        const expected = new Map<string, string[]>();
        // Interleaved enqueues from every worker's queue, in batches, as producers in several processes would.
        for (let n = 0; n < JOBS_PER_GROUP; n++) {
          const batch = Array.from({ length: GROUPS }, (_, g) => {
            const group = `tenant-${g}`;
            const label = `${group}/${n}`;
            expected.set(group, [...(expected.get(group) ?? []), label]);
            return { job: Task, payload: { label }, options: { group } };
          });
          await queues[n % WORKERS]?.enqueueMany(batch);
        }
        const total = GROUPS * JOBS_PER_GROUP;
        await waitFor(() => log.finished === total, {
          timeoutMs: 30_000,
          message: () => `${total} jobs finished (got ${log.finished})`,
        });
        // Claims take each group's jobs in enqueue order: by the server clock, no job started before an earlier one.
        // With one at a time, handlers (in whichever worker) also ran them in that order.
        const startedAt = new Map<string, number>();
        for (let after: string | undefined, page = 0; page === 0 || after !== undefined; page++) {
          const listed = await queues[0]?.list({
            state: 'completed',
            limit: 200,
            ...(after ? { after } : {}),
          });
          for (const job of listed?.jobs ?? [])
            startedAt.set((job.payload as { label: string }).label, job.startedAt ?? 0);
          after = listed?.next;
        }
        for (const [group, labels] of expected) {
          expect(log.peak.get(group), `peak of ${group}`).toBeLessThanOrEqual(concurrency);
          const times = labels.map((label) => startedAt.get(label) ?? Number.NaN);
          expect(times, `claim times of ${group}`).toEqual([...times].sort((a, b) => a - b));
          if (concurrency === 1) expect(log.starts.get(group), `start order of ${group}`).toEqual(labels);
        }
        // Groups did run side by side: the limit is per group, not per queue.
        expect(Math.max(...log.peak.values())).toBe(concurrency);
        const { counts } = (await queues[0]?.inspect()) ?? { counts: undefined };
        expect(counts).toMatchObject({ completed: total, active: 0, pending: 0 });
      }, 60_000);
    }
  });
});

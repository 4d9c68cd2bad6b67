import { createJobQueue, silentLogger } from '@relaybus/core';
import { waitFor } from '@relaybus/core/testing';
import { redisTransport } from '@relaybus/transport-redis';
import { describe, expect, it } from 'vitest';
import { newClient } from './support/client';
import { forEachClient } from './support/for-each-client';
import { Task } from './support/job-definitions';
import { useRedisServer } from './support/redis-server';

/** Well under the worker's 5 s idle wait: only a wake-up, not the safety-net poll, starts a job this fast. */
const WOKEN_WITHIN_MS = 1_500;

forEachClient((flavour) => {
  describe('job queues across a Redis restart (AOF, fsync always)', () => {
    const server = useRedisServer({ appendOnly: true, appendFsync: 'always' });

    it('loses no job, and idle workers are woken again once Redis is back', async () => {
      const redis = newClient({ url: server().url }, flavour);
      const transport = redisTransport({ redis, prefix: 'restart', connectTimeoutMs: 10_000 });
      const jobs = createJobQueue({ transport, jobs: [Task], logger: silentLogger, leaseTtlMs: 1_000 });
      const handled = new Map<string, number>();
      jobs.work(
        { [Task.type]: ({ label }) => void handled.set(label, (handled.get(label) ?? 0) + 1) },
        { concurrency: 4 },
      );
      try {
        const before = Array.from({ length: 20 }, (_, n) => ({
          job: Task,
          payload: { label: `before-${n}` },
        }));
        await jobs.enqueueMany(before);
        await waitFor(() => handled.size === 20, { timeoutMs: 10_000, message: 'the first 20 jobs handled' });

        await server().kill('SIGKILL');
        await server().restart();
        const after = Array.from({ length: 20 }, (_, n) => ({ job: Task, payload: { label: `after-${n}` } }));
        await jobs.enqueueMany(after);
        await waitFor(() => handled.size === 40, {
          timeoutMs: 20_000,
          message: () => `40 jobs handled (got ${handled.size})`,
        });
        // The blocking wait reconnected: a job enqueued to an idle worker starts at once, not at its next poll.
        await new Promise((resolve) => setTimeout(resolve, 300));
        const enqueuedAt = Date.now();
        await jobs.enqueue(Task, { label: 'idle' });
        await waitFor(() => handled.has('idle'), { timeoutMs: 10_000, message: 'the idle worker woken' });
        expect(Date.now() - enqueuedAt).toBeLessThan(WOKEN_WITHIN_MS);

        await waitFor(async () => (await jobs.inspect()).counts.completed === 41, {
          timeoutMs: 10_000,
          message: 'every job completed',
        });
        const { counts } = await jobs.inspect();
        expect(counts).toMatchObject({ completed: 41, pending: 0, active: 0, dead: 0 });
      } finally {
        await jobs.close({ timeoutMs: 2_000 });
        await transport.close();
        redis.disconnect();
      }
    }, 60_000);
  });
});

import type { JobBackend } from '@relaybus/core';
import type { ClaimedJob } from '@relaybus/core/transport-kit';
import { describe, expect, it } from 'vitest';
import { unlinkUnder } from './redis-fixture';
import { forEachClient } from './support/for-each-client';
import { claimRequest, newJob, useJobBackends } from './support/job-backends';

const QUEUE = 'order';

/** Claims one job at a time and completes it, `rounds` times; the ids in claim order. */
async function drain(backend: JobBackend, rounds: number, request = claimRequest(QUEUE, { max: 1 })) {
  const order: ClaimedJob[] = [];
  for (let round = 0; round < rounds; round++) {
    const [job] = await backend.claim(request);
    if (job === undefined) break;
    order.push(job);
    await backend.complete(QUEUE, job.lease, undefined, 60_000);
  }
  return order;
}

forEachClient((flavour) => {
  describe('redisJobBackend claim order', () => {
    const backends = useJobBackends('jobs-order', flavour);

    it('adds a batch larger than one script call in order, with an outcome per job', async () => {
      const backend = backends.open(backends.prefix());
      const jobs = Array.from({ length: 250 }, () => newJob());
      const outcomes = await backend.add(QUEUE, [...jobs, jobs[7] ?? newJob()]);
      expect(outcomes.slice(0, 250)).toEqual(jobs.map((job) => ({ status: 'added', id: job.id })));
      expect(outcomes[250]).toEqual({ status: 'duplicate', id: jobs[7]?.id });
      const claimed = await backend.claim(claimRequest(QUEUE, { max: 250 }));
      expect(claimed.map((job) => job.id)).toEqual(jobs.map((job) => job.id));
      expect(claimed[0]).toMatchObject({ type: 'test:job', payload: jobs[0]?.payload, state: 'active' });
    });

    it('alternates ungrouped jobs and groups, groups in round robin, each group in enqueue order', async () => {
      const backend = backends.open(backends.prefix());
      const a = [newJob({ group: 'a' }), newJob({ group: 'a' }), newJob({ group: 'a' })];
      const b = [newJob({ group: 'b' }), newJob({ group: 'b' })];
      const free = [newJob(), newJob(), newJob()];
      await backend.add(QUEUE, [...a, ...b, ...free]);
      const order = await drain(backend, 8);
      const expected = [free[0], a[0], free[1], b[0], free[2], a[1], b[1], a[2]];
      expect(order.map((job) => job.id)).toEqual(expected.map((job) => job?.id));
    });

    it('never runs more than groupConcurrency jobs of a group across workers', async () => {
      const prefix = backends.prefix();
      const workers = [backends.open(prefix), backends.open(prefix), backends.open(prefix)];
      await workers[0]?.add(
        QUEUE,
        Array.from({ length: 9 }, () => newJob({ group: 'tenant' })),
      );
      const request = (worker: string) => claimRequest(QUEUE, { worker, groupConcurrency: 2 });
      const claimed = (
        await Promise.all(workers.map((backend, index) => backend.claim(request(`w${index}`))))
      ).flat();
      expect(claimed).toHaveLength(2);
      const [first] = claimed;
      if (first === undefined) throw new Error('expected claims');
      await workers[2]?.complete(QUEUE, first.lease, undefined, 60_000);
      expect(await workers[1]?.claim(request('w1'))).toHaveLength(1);
      expect(await workers[0]?.claim(request('w0'))).toEqual([]);
    });

    it('starts at most rate.max jobs of a group per window, and wakes a waiting worker when the window ends', async () => {
      const backend = backends.open(backends.prefix());
      await backend.add(
        QUEUE,
        Array.from({ length: 5 }, () => newJob({ group: 'api' })),
      );
      const request = claimRequest(QUEUE, { groupConcurrency: 10, groupRate: { max: 2, perMs: 400 } });
      const first = await backend.claim(request);
      expect(first).toHaveLength(2);
      expect(await backend.claim(request)).toEqual([]);
      // As a worker loop does: claim, and wait when nothing came (wake-ups for jobs the first claim took included).
      const startedWaiting = Date.now();
      let second: ClaimedJob[] = [];
      while (second.length === 0 && Date.now() - startedWaiting < 5_000) {
        await backend.wait(QUEUE, 5_000);
        second = await backend.claim(request);
      }
      expect(second).toHaveLength(2);
      // The window's end woke the worker, well before its 5 s bound.
      expect(Date.now() - startedWaiting).toBeLessThan(2_000);
      expect((second[0]?.startedAt ?? 0) - (first[0]?.startedAt ?? 0)).toBeGreaterThanOrEqual(400);
    });

    it('claims strictly by priority, or in proportion to the weights without starving low', async () => {
      const backend = backends.open(backends.prefix());
      const levels = ['critical', 'high', 'normal', 'low'] as const;
      await backend.add(
        QUEUE,
        levels.flatMap((priority) => Array.from({ length: 30 }, () => newJob({ priority }))),
      );
      const strict = await drain(backend, 3);
      expect(strict.map((job) => job.priority)).toEqual(['critical', 'critical', 'critical']);
      const weights = { critical: 8, high: 4, normal: 2, low: 1 };
      const weighted = await drain(
        backend,
        30,
        claimRequest(QUEUE, { max: 1, priority: { mode: 'weighted', weights } }),
      );
      const share = (priority: string) => weighted.filter((job) => job.priority === priority).length;
      expect([share('critical'), share('high'), share('normal'), share('low')]).toEqual([16, 8, 4, 2]);
    });

    it('keeps every key of a queue under its hash tag, so each script runs in one Cluster slot', async () => {
      const prefix = backends.prefix();
      const backend = backends.open(prefix);
      await backend.add(QUEUE, [
        newJob({ group: 'g', unique: { key: 'u', ttlMs: 60_000, mode: 'dedupe' } }),
        newJob({ runAt: Date.now() + 60_000 }),
      ]);
      await backend.claim(claimRequest(QUEUE, { groupRate: { max: 5, perMs: 60_000 } }));
      await backend.enqueueTick(QUEUE, { schedule: 'nightly', at: 1_000, job: newJob() });
      await backend.pause(QUEUE);
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await backends.redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1_000);
        cursor = next;
        keys.push(...batch);
      } while (cursor !== '0');
      expect(keys.length).toBeGreaterThan(10);
      expect(keys.filter((key) => !key.startsWith(`${prefix}:j:{${QUEUE}}:`))).toEqual([]);
      await unlinkUnder(backends.redis, prefix);
    });
  });
});

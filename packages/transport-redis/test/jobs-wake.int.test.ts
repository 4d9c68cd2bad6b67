import { createJobQueue, RelaybusError, silentLogger } from '@relaybus/core';
import { waitFor } from '@relaybus/core/testing';
import { freePort } from '@relaybus/test-support';
import { redisJobBackend, redisTransport } from '@relaybus/transport-redis';
import { describe, expect, it } from 'vitest';
import { newClient } from './support/client';
import { forEachClient } from './support/for-each-client';
import { claimRequest, newJob, useJobBackends } from './support/job-backends';
import { Task } from './support/job-definitions';
import { useRedisServer } from './support/redis-server';

const QUEUE = 'wake';
/** Generous bound on a wake-up that takes a round trip: it only fails when the waiter was not woken at all. */
const WOKEN_WITHIN_MS = 1_000;

function percentile(values: ReadonlyArray<number>, p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN;
}

forEachClient((flavour) => {
  describe('redisJobBackend waits', () => {
    const server = useRedisServer();
    const backends = useJobBackends('jobs-wake', flavour, () => ({ url: server().url }));

    it('wakes an idle worker when another process adds a job, without a polling delay', async () => {
      const prefix = backends.prefix();
      const [worker, producer] = [backends.open(prefix), backends.open(prefix)];
      const latencies: number[] = [];
      for (let round = 0; round < 30; round++) {
        expect(await worker.claim(claimRequest(QUEUE))).toEqual([]);
        const waiting = worker.wait(QUEUE, 10_000);
        await new Promise((resolve) => setTimeout(resolve, 5)); // the worker is blocked by now
        const addedAt = performance.now();
        await producer.add(QUEUE, [newJob()]);
        await waiting;
        const [job] = await worker.claim(claimRequest(QUEUE));
        latencies.push(performance.now() - addedAt);
        if (job === undefined) throw new Error(`round ${round}: woken, but nothing to claim`);
        await worker.complete(QUEUE, job.lease, undefined, 0);
      }
      console.info(
        `jobs wake (${flavour.name}): add → claimed p50 ${percentile(latencies, 50).toFixed(2)} ms, p99 ${percentile(latencies, 99).toFixed(2)} ms`,
      );
      expect(Math.max(...latencies)).toBeLessThan(WOKEN_WITHIN_MS);
    });

    it('starts a job enqueued while the worker idles within milliseconds, through the queue', async () => {
      const prefix = backends.prefix();
      const jobs = createJobQueue({ backend: backends.open(prefix), jobs: [Task], logger: silentLogger });
      const producer = createJobQueue({ backend: backends.open(prefix), jobs: [Task], logger: silentLogger });
      const startedAt = new Map<string, number>();
      jobs.work({ [Task.type]: ({ label }) => void startedAt.set(label, performance.now()) });
      const latencies: number[] = [];
      try {
        for (let round = 0; round < 40; round++) {
          await new Promise((resolve) => setTimeout(resolve, 20)); // idle, blocked on Redis
          const enqueuedAt = performance.now();
          await producer.enqueue(Task, { label: `r${round}` });
          await waitFor(() => startedAt.has(`r${round}`), { timeoutMs: 5_000, message: `r${round} started` });
          latencies.push((startedAt.get(`r${round}`) ?? Number.NaN) - enqueuedAt);
        }
      } finally {
        await Promise.all([jobs.close(), producer.close()]);
      }
      console.info(
        `jobs wake (${flavour.name}): enqueue → handler started p50 ${percentile(latencies, 50).toFixed(2)} ms, p99 ${percentile(latencies, 99).toFixed(2)} ms`,
      );
      expect(Math.max(...latencies)).toBeLessThan(WOKEN_WITHIN_MS);
    });

    it('wakes a waiting worker when its next scheduled job falls due, and after resume', async () => {
      const backend = backends.open(backends.prefix());
      const job = newJob({ runAt: Date.now() + 300 });
      await backend.add(QUEUE, [job]);
      const started = Date.now();
      let claimed = await backend.claim(claimRequest(QUEUE));
      while (claimed.length === 0 && Date.now() - started < 5_000) {
        await backend.wait(QUEUE, 5_000);
        claimed = await backend.claim(claimRequest(QUEUE));
      }
      expect(claimed.map((each) => each.id)).toEqual([job.id]);
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
      expect(Date.now() - started).toBeLessThan(300 + WOKEN_WITHIN_MS);

      await backend.pause(QUEUE);
      const paused = newJob();
      await backend.add(QUEUE, [paused]);
      expect(await backend.claim(claimRequest(QUEUE))).toEqual([]);
      expect(await backend.counts(QUEUE)).toMatchObject({ paused: true, counts: { pending: 1 } });
      const waiting = backend.wait(QUEUE, 10_000);
      const resumeAt = Date.now();
      await backend.resume(QUEUE);
      await waiting;
      expect(Date.now() - resumeAt).toBeLessThan(WOKEN_WITHIN_MS);
      expect((await backend.claim(claimRequest(QUEUE))).map((each) => each.id)).toEqual([paused.id]);
    });

    it('ends waits on close and leaves no blocked connection behind', async () => {
      const backend = backends.open(backends.prefix());
      const controller = new AbortController();
      const waits = [backend.wait(QUEUE, 30_000), backend.wait('other-queue', 30_000, controller.signal)];
      const blocked = async (): Promise<number> => {
        const info = await backends.redis.info('clients');
        return Number(/blocked_clients:(\d+)/.exec(info)?.[1] ?? Number.NaN);
      };
      await waitFor(async () => (await blocked()) === 2, { timeoutMs: 5_000, message: 'two blocked waits' });
      controller.abort();
      await waits[1];
      const closedAt = Date.now();
      await backend.close();
      await waits[0];
      expect(Date.now() - closedAt).toBeLessThan(WOKEN_WITHIN_MS);
      await waitFor(async () => (await blocked()) === 0, { timeoutMs: 5_000, message: 'no blocked client' });
      await expect(backend.add(QUEUE, [newJob()])).rejects.toMatchObject({ code: 'CLOSED' });
      await backend.wait(QUEUE, 30_000); // resolves at once once closed
    });
  });

  describe('redisJobBackend errors and the transport', () => {
    const backends = useJobBackends('jobs-errors', flavour);

    it('rejects with RedisUnavailableError (TRANSPORT_UNAVAILABLE) naming the address when Redis is unreachable', async () => {
      const port = await freePort();
      const redis = newClient({ url: `redis://127.0.0.1:${port}` }, flavour, { lazyConnect: true });
      const backend = redisJobBackend({ redis, connectTimeoutMs: 300 });
      try {
        const failure = await backend.add(QUEUE, [newJob()]).catch((error: unknown) => error);
        expect(failure).toBeInstanceOf(RelaybusError);
        expect(failure).toMatchObject({ name: 'RedisUnavailableError', code: 'TRANSPORT_UNAVAILABLE' });
        expect((failure as Error).message).toContain(`127.0.0.1:${port}`);
      } finally {
        await backend.close();
        redis.disconnect();
      }
    });

    it('refuses bad options and bad input with InvalidOptionError naming the option', async () => {
      const { redis } = backends;
      expect(() => redisJobBackend({ redis, prefix: 'a{b}' })).toThrow(/prefix/);
      expect(() => redisJobBackend({ redis, blockMs: 0 })).toThrow(/blockMs/);
      const backend = backends.open(backends.prefix());
      await expect(backend.add('a{b}', [newJob()])).rejects.toMatchObject({ code: 'INVALID_OPTION' });
      await expect(backend.add(QUEUE, [newJob({ priority: 'urgent' as 'high' })])).rejects.toThrow(
        /priority/,
      );
      const cyclic: Record<string, unknown> = {};
      cyclic['self'] = cyclic;
      await expect(backend.add(QUEUE, [newJob({ payload: cyclic })])).rejects.toThrow(/JSON-serialisable/);
      await expect(backend.list(QUEUE, { state: 'dead', limit: 10, after: 'nope' })).rejects.toThrow(
        /cursor/,
      );
      expect(await backend.counts(QUEUE)).toMatchObject({ counts: { pending: 0 } });
    });

    it('offers one job backend per transport, on its client and prefix, closed with the transport', async () => {
      const prefix = backends.prefix();
      const transport = redisTransport({ redis: backends.redis, prefix });
      const backend = transport.jobBackend?.();
      if (backend === undefined) throw new Error('the redis transport offers no job backend');
      expect(transport.jobBackend?.()).toBe(backend);
      expect(backend.name).toBe('redis');
      const job = newJob();
      await backend.add(QUEUE, [job]);
      expect(await backends.open(prefix).get(QUEUE, job.id)).toMatchObject({ id: job.id, state: 'pending' });
      await transport.close();
      await expect(backend.counts(QUEUE)).rejects.toMatchObject({ code: 'CLOSED' });
    });
  });
});

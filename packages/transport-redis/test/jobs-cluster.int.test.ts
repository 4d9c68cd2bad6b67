import { createJobQueue, type JobQueue, NonRetryableError, silentLogger } from '@relaybus/core';
import { waitFor } from '@relaybus/core/testing';
import { redisTransport } from '@relaybus/transport-redis';
import type { Cluster } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { newClient } from './support/client';
import { forEachClient } from './support/for-each-client';
import { Task } from './support/job-definitions';
import { namesOnTwoMasters, startRedisCluster } from './support/redis-cluster';
import { uniquePrefix } from './support/transports';

const cluster = await startRedisCluster({ masters: 3 });
afterAll(() => cluster.stop());

forEachClient((flavour) => {
  describe('redisJobBackend on a 3-master Redis Cluster', () => {
    const clients: Cluster[] = [];
    const closing: Array<() => Promise<void>> = [];
    afterEach(async () => {
      for (const close of closing.splice(0)) await close();
      for (const client of clients.splice(0)) client.disconnect();
    });

    function connect(): Cluster {
      const client = newClient({ cluster: cluster.nodes }, flavour) as Cluster;
      clients.push(client);
      return client;
    }

    function queueOn(redis: Cluster, prefix: string, queue: string): JobQueue<typeof Task> {
      const transport = redisTransport({ redis, prefix });
      const jobs = createJobQueue({
        transport,
        jobs: [Task],
        queue,
        logger: silentLogger,
        leaseTtlMs: 1_000,
      });
      closing.push(async () => {
        await jobs.close({ timeoutMs: 2_000 });
        await transport.close();
      });
      return jobs;
    }

    it('runs queues on different masters: groups in order, delays, unique keys, retries, dead jobs, inspection', async () => {
      const prefix = uniquePrefix('jobs-cluster');
      const [producerClient, workerClient] = [connect(), connect()];
      await producerClient.cluster('INFO');
      const queues = await namesOnTwoMasters(producerClient, (n) => `jobs-${n}`);
      for (const queue of queues) {
        const producer = queueOn(producerClient, prefix, queue);
        const worker = queueOn(workerClient, prefix, queue);
        const seen: string[] = [];
        worker.work(
          {
            [Task.type]: async ({ label }) => {
              seen.push(label);
              if (label === 'poison') throw new NonRetryableError('refused');
              return label.toUpperCase();
            },
          },
          { concurrency: 8 },
        );
        const items = Array.from({ length: 40 }, (_, n) => ({
          job: Task,
          payload: { label: `g${n % 4}-${Math.floor(n / 4)}` },
          options: { group: `g${n % 4}` },
        }));
        await producer.enqueueMany(items);
        const delayed = await producer.enqueue(Task, { label: 'later' }, { delayMs: 200 });
        const unique = { ttlMs: 60_000, key: 'once' };
        const first = await producer.enqueue(Task, { label: 'unique' }, { unique, delayMs: 500 });
        const second = await producer.enqueue(Task, { label: 'unique' }, { unique });
        expect(second).toEqual({ id: first.id, status: 'deduplicated' });
        const poison = await producer.enqueue(Task, { label: 'poison' });

        let counts: unknown;
        await waitFor(
          async () => {
            const inspected = await producer.inspect();
            counts = inspected.counts;
            return inspected.counts.completed === 42;
          },
          { timeoutMs: 15_000, message: () => `42 jobs completed on ${queue} (${JSON.stringify(counts)})` },
        );
        for (let group = 0; group < 4; group++) {
          const order = seen.filter((label) => label.startsWith(`g${group}-`));
          expect(order).toEqual(Array.from({ length: 10 }, (_, n) => `g${group}-${n}`));
        }
        expect(await producer.get(delayed.id)).toMatchObject({ state: 'completed', result: 'LATER' });
        await waitFor(async () => (await producer.get(poison.id))?.state === 'dead', {
          timeoutMs: 5_000,
          message: 'the poison job dead',
        });
        expect((await producer.dead.list()).jobs.map((job) => job.id)).toEqual([poison.id]);
        const page = await producer.list({ state: 'completed', limit: 30 });
        const rest = await producer.list({
          state: 'completed',
          limit: 30,
          ...(page.next ? { after: page.next } : {}),
        });
        expect(new Set([...page.jobs, ...rest.jobs].map((job) => job.id)).size).toBe(42);
        expect(await producer.dead.purge()).toBe(1);
      }
      // Each queue's keys live on its own master.
      const slots = await Promise.all(
        queues.map(async (queue) =>
          Number(await producerClient.cluster('KEYSLOT', `${prefix}:j:{${queue}}:meta`)),
        ),
      );
      expect(producerClient.slots[slots[0] ?? 0]?.[0]).not.toBe(producerClient.slots[slots[1] ?? 0]?.[0]);
    }, 60_000);

    it('wakes an idle worker at once when a job is enqueued', async () => {
      const prefix = uniquePrefix('jobs-cluster-wake');
      const [queue] = await namesOnTwoMasters(connect(), (n) => `jobs-${n}`);
      const producer = queueOn(connect(), prefix, queue);
      const worker = queueOn(connect(), prefix, queue);
      const startedAt: number[] = [];
      worker.work({ [Task.type]: () => void startedAt.push(Date.now()) });
      await new Promise((resolve) => setTimeout(resolve, 300)); // idle and blocked by now
      const latencies: number[] = [];
      for (let round = 0; round < 10; round++) {
        const enqueuedAt = Date.now();
        await producer.enqueue(Task, { label: `r${round}` });
        await waitFor(() => startedAt.length > round, { timeoutMs: 5_000, message: `job ${round} started` });
        latencies.push((startedAt[round] ?? Number.NaN) - enqueuedAt);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      console.info(`jobs cluster (${flavour.name}): enqueue → start ${latencies.join(', ')} ms`);
      expect(Math.max(...latencies)).toBeLessThan(1_000);
    }, 30_000);
  });
});

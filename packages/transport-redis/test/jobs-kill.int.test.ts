import { createJobQueue, silentLogger } from '@relaybus/core';
import { waitFor } from '@relaybus/core/testing';
import type { TsProcess } from '@relaybus/test-support';
import { redisTransport } from '@relaybus/transport-redis';
import { afterEach, describe, expect, it } from 'vitest';
import { useRedis } from './redis-fixture';
import { forEachClient } from './support/for-each-client';
import { Task } from './support/job-definitions';
import { startJobWorkerProcess } from './support/job-worker-process';
import type { JobWorkerReport } from './support/job-worker-protocol';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const QUEUE = 'kill';
/** The bound on a crashed worker's job running again, with the defaults (leaseTtlMs 5000). */
const RERUN_BOUND_MS = 10_000;

forEachClient((flavour) => {
  describe('a job worker process killed with SIGKILL', () => {
    const { redis, prefix } = useRedis('jobs-kill', flavour);
    const children: Array<TsProcess<never, JobWorkerReport>> = [];
    const closing: Array<() => Promise<void>> = [];
    afterEach(async () => {
      await Promise.all(children.splice(0).map((child) => child.kill('SIGKILL')));
      for (const close of closing.splice(0)) await close();
    });

    /** A queue in this process on its own transport (closed after the test). */
    function queueOn(keyPrefix: string) {
      const transport = redisTransport({ redis, prefix: keyPrefix });
      const jobs = createJobQueue({ transport, jobs: [Task], queue: QUEUE, logger: silentLogger });
      closing.push(async () => {
        await jobs.close({ timeoutMs: 2_000 });
        await transport.close();
      });
      return jobs;
    }

    /** A worker process on the test's queue (killed after the test). */
    async function workerProcess(keyPrefix: string, mode: 'hold' | 'kill-self', leaseTtlMs?: number) {
      const child = await startJobWorkerProcess({
        connection: { url: REDIS_URL },
        flavour,
        prefix: keyPrefix,
        queue: QUEUE,
        mode,
        ...(leaseTtlMs === undefined ? {} : { leaseTtlMs }),
      });
      children.push(child);
      return child;
    }

    const started = (child: TsProcess<never, JobWorkerReport>, id: string) =>
      child.waitForMessage(
        (report) => report.type === 'started' && report.id === id,
        15_000,
        `job ${id} started`,
      );

    it('has its job run again within 10 s with the default lease, completed once, without using up an attempt', async () => {
      const keyPrefix = prefix();
      const victim = await workerProcess(keyPrefix, 'hold');
      const jobs = queueOn(keyPrefix);
      const { id } = await jobs.enqueue(Task, { label: 'survives' });
      await started(victim, id);

      const runs: Array<{ attempt: number; at: number }> = [];
      jobs.work({
        [Task.type]: async ({ label }, ctx) => {
          runs.push({ attempt: ctx.attempt, at: Date.now() });
          return `${label} by the survivor`;
        },
      });
      expect((await victim.kill('SIGKILL')).signal).toBe('SIGKILL');
      const killedAt = Date.now();
      let last: unknown;
      await waitFor(
        async () => {
          const job = await jobs.get(id);
          last = job;
          return job?.state === 'completed';
        },
        {
          timeoutMs: RERUN_BOUND_MS + 5_000,
          intervalMs: 20,
          message: () => `job ${id} completed (it is ${JSON.stringify(last)})`,
        },
      );
      const rerunMs = (runs[0]?.at ?? Number.NaN) - killedAt;
      console.info(`jobs kill (${flavour.name}): crash → rerun ${rerunMs} ms with leaseTtlMs 5000`);
      expect(rerunMs).toBeLessThan(RERUN_BOUND_MS);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(runs.map((run) => run.attempt)).toEqual([1]);
      const job = await jobs.get(id);
      expect(job).toMatchObject({
        state: 'completed',
        result: 'survives by the survivor',
        failures: 0,
        crashes: 1,
      });
      expect(job?.errors.map((error) => [error.kind, error.attempt])).toEqual([['crash', 1]]);
    }, 40_000);

    it('ends dead with CRASH_LIMIT when its job kills every worker that runs it', async () => {
      const keyPrefix = prefix();
      const jobs = queueOn(keyPrefix);
      const { id } = await jobs.enqueue(Task, { label: 'poison' });
      const attempts: number[] = [];
      // maxCrashes is 3 by default: three workers run it and die; each next one's sweep finds the expired lease.
      for (let worker = 0; worker < 3; worker++) {
        const child = await workerProcess(keyPrefix, 'kill-self', 1_000);
        const report = await started(child, id);
        if (report.type === 'started') attempts.push(report.attempt);
        expect((await child.exited).signal).toBe('SIGKILL');
      }
      await waitFor(
        async () => {
          await jobs.backend.recover(QUEUE);
          return (await jobs.get(id))?.state === 'dead';
        },
        { timeoutMs: 10_000, message: 'the job dead after its third crash' },
      );
      expect(attempts).toEqual([1, 1, 1]);
      const job = await jobs.get(id);
      expect(job).toMatchObject({ state: 'dead', deadReason: 'CRASH_LIMIT', crashes: 3, failures: 0 });
      expect(job?.errors.map((error) => error.kind)).toEqual(['crash', 'crash', 'crash']);
      expect((await jobs.dead.list()).jobs.map((dead) => dead.id)).toEqual([id]);
    }, 60_000);
  });
});

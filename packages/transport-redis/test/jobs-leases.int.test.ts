import { waitFor } from '@relaybus/core/testing';
import { describe, expect, it } from 'vitest';
import { EVERY_REPLY_SHAPE } from './support/client';
import { forEachClient } from './support/for-each-client';
import { claimRequest, newJob, useJobBackends } from './support/job-backends';

const QUEUE = 'leases';
const SHORT_LEASE_MS = 150;

async function expireLeases(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, SHORT_LEASE_MS + 50));
}

// Every reply shape the backend reads (script tables, HGET, ZCARD): RESP2, and RESP3 as each supported ioredis 6 maps it.
forEachClient((flavour) => {
  describe('redisJobBackend leases', () => {
    const backends = useJobBackends('jobs-leases', flavour);

    it('lets only the current lease act: a worker that lost its lease changes nothing, so a job completes once', async () => {
      const prefix = backends.prefix();
      const [first, second] = [backends.open(prefix), backends.open(prefix)];
      const job = newJob({ payload: { to: 'ada' } });
      await first.add(QUEUE, [job]);
      const [stale] = await first.claim(claimRequest(QUEUE, { worker: 'w-old', leaseTtlMs: SHORT_LEASE_MS }));
      expect(stale?.lease.worker).toBe('w-old');
      await expireLeases();
      expect(await second.recover(QUEUE)).toBe(1);
      const [current] = await second.claim(claimRequest(QUEUE, { worker: 'w-new' }));
      if (stale === undefined || current === undefined) throw new Error('expected two claims of the job');
      expect(current.id).toBe(job.id);
      expect(current.lease.token).not.toBe(stale.lease.token);

      expect(await first.extend(QUEUE, [stale.lease], 5_000)).toEqual(['lost']);
      expect(await first.progress(QUEUE, stale.lease, { step: 1 })).toBe(false);
      expect(await first.release(QUEUE, stale.lease)).toBe(false);
      const failure = { kind: 'error' as const, error: { name: 'Error', message: 'late' } };
      expect(await first.fail(QUEUE, stale.lease, { ...failure, outcome: { kind: 'drop' } })).toBe(false);
      expect(await first.complete(QUEUE, stale.lease, 'from the old worker', 60_000)).toBe(false);

      expect(await second.progress(QUEUE, current.lease, { step: 2 })).toBe(true);
      expect(await second.complete(QUEUE, current.lease, 'from the new worker', 60_000)).toBe(true);
      expect(await second.complete(QUEUE, current.lease, 'twice', 60_000)).toBe(false);
      const stored = await first.get(QUEUE, job.id);
      expect(stored).toMatchObject({
        state: 'completed',
        result: 'from the new worker',
        progress: { step: 2 },
      });
      expect(stored?.lease).toBeUndefined();
      expect((await first.counts(QUEUE)).counts).toMatchObject({ completed: 1, active: 0, pending: 0 });
    });

    it('counts an expired lease as a crash, not a failure, and kills the job at maxCrashes with CRASH_LIMIT', async () => {
      const backend = backends.open(backends.prefix());
      const job = newJob({ maxCrashes: 2, maxAttempts: 1 });
      await backend.add(QUEUE, [job]);
      for (let crash = 1; crash <= 2; crash++) {
        const [claimed] = await backend.claim(claimRequest(QUEUE, { leaseTtlMs: SHORT_LEASE_MS }));
        expect(claimed?.id).toBe(job.id);
        await expireLeases();
        expect(await backend.recover(QUEUE)).toBe(1);
        expect(await backend.recover(QUEUE)).toBe(0);
      }
      const dead = await backend.get(QUEUE, job.id);
      expect(dead).toMatchObject({ state: 'dead', deadReason: 'CRASH_LIMIT', crashes: 2, failures: 0 });
      expect(dead?.errors.map((error) => [error.kind, error.attempt])).toEqual([
        ['crash', 1],
        ['crash', 1],
      ]);
      expect(dead?.errors[0]?.error.name).toBe('LeaseExpiredError');
      expect(dead?.errors[1]?.error.message).toContain('crash 2 of 2');
    });

    it('puts a released or recovered job back ahead of its group, and frees the group slot it held', async () => {
      const backend = backends.open(backends.prefix());
      const jobs = ['a', 'b', 'c'].map((label) =>
        newJob({ id: `${label}-${Date.now()}`, group: 'project-1' }),
      );
      await backend.add(QUEUE, jobs);
      const [a] = await backend.claim(claimRequest(QUEUE, { leaseTtlMs: SHORT_LEASE_MS }));
      expect(a?.id).toBe(jobs[0]?.id);
      expect(await backend.claim(claimRequest(QUEUE))).toEqual([]); // one at a time in the group
      if (a === undefined) throw new Error('expected a claim');
      expect(await backend.release(QUEUE, a.lease)).toBe(true);
      const [again] = await backend.claim(claimRequest(QUEUE, { leaseTtlMs: SHORT_LEASE_MS }));
      expect(again).toMatchObject({ id: a.id, failures: 0, crashes: 0 });
      await expireLeases();
      await backend.recover(QUEUE);
      const order: string[] = [];
      for (let round = 0; round < 3; round++) {
        const [next] = await backend.claim(claimRequest(QUEUE));
        if (next === undefined) throw new Error(`nothing to claim in round ${round}`);
        order.push(next.id);
        await backend.complete(QUEUE, next.lease, undefined, 0);
      }
      expect(order).toEqual(jobs.map((job) => job.id));
      expect(await backend.get(QUEUE, jobs[0]?.id ?? '')).toBeUndefined(); // retainMs 0: removed at once
    });

    it('marks a cancelled active job, and its worker learns it at the next renewal', async () => {
      const backend = backends.open(backends.prefix());
      const job = newJob();
      await backend.add(QUEUE, [job]);
      const [claimed] = await backend.claim(claimRequest(QUEUE));
      if (claimed === undefined) throw new Error('expected a claim');
      expect(await backend.cancel(QUEUE, job.id)).toBe('cancelling');
      expect(await backend.get(QUEUE, job.id)).toMatchObject({ state: 'active', cancelRequested: true });
      expect(await backend.extend(QUEUE, [claimed.lease], 5_000)).toEqual(['cancelled']);
      const failure = { kind: 'error' as const, error: { name: 'AbortError', message: 'cancelled' } };
      expect(await backend.fail(QUEUE, claimed.lease, { ...failure, outcome: { kind: 'drop' } })).toBe(true);
      expect(await backend.get(QUEUE, job.id)).toBeUndefined();
      expect(await backend.cancel(QUEUE, job.id)).toBe('not-found');
    });

    it('keeps completed jobs for retainMs, dead ones until purged, and the last 25 errors', async () => {
      const backend = backends.open(backends.prefix());
      const [kept, dying] = [newJob(), newJob({ maxAttempts: 30 })];
      await backend.add(QUEUE, [kept, dying]);
      const claimed = await backend.claim(claimRequest(QUEUE));
      const lease = (id: string) => {
        const job = claimed.find((candidate) => candidate.id === id);
        if (job === undefined) throw new Error(`${id} not claimed`);
        return job.lease;
      };
      await backend.complete(QUEUE, lease(kept.id), { total: 3 }, 300);
      let current = lease(dying.id);
      for (let attempt = 1; attempt <= 30; attempt++) {
        const error = { name: 'Error', message: `attempt ${attempt}` };
        const last = attempt === 30;
        const outcome = last
          ? { kind: 'dead' as const, reason: 'MAX_ATTEMPTS' as const }
          : { kind: 'retry' as const, runAt: 0 };
        expect(await backend.fail(QUEUE, current, { kind: 'error', error, outcome })).toBe(true);
        if (!last) {
          const [next] = await backend.claim(claimRequest(QUEUE));
          if (next === undefined) throw new Error(`retry ${attempt} not claimable`);
          current = next.lease;
        }
      }
      const dead = await backend.get(QUEUE, dying.id);
      expect(dead).toMatchObject({ state: 'dead', deadReason: 'MAX_ATTEMPTS', failures: 30 });
      expect(dead?.errors.map((error) => error.attempt)).toEqual(Array.from({ length: 25 }, (_, i) => i + 6));
      expect(await backend.get(QUEUE, kept.id)).toMatchObject({ state: 'completed', result: { total: 3 } });
      await waitFor(async () => (await backend.get(QUEUE, kept.id)) === undefined, {
        timeoutMs: 5_000,
        message: 'the completed job to go after its retention',
      });
      expect((await backend.counts(QUEUE)).counts).toMatchObject({ completed: 0, dead: 1 });
      expect(await backend.purge(QUEUE, { state: 'dead' })).toBe(1);
      expect(await backend.get(QUEUE, dying.id)).toBeUndefined();
    });
  });
}, EVERY_REPLY_SHAPE);

import type { JobBackend, JobRecord } from '../../../jobs/backend';
import { expect } from '../../expect';
import { aborted, attemptErrors, CLOCK_SLACK_MS, deferred, summarize } from '../assertions';
import { Task } from '../catalog';
import type { JobHarness, QueueView } from '../harness';
import type { JobScenario } from '../scenario';

const CRASHED_LEASE_MS = 200;

async function crashedWorkerJobRunsAgain(h: JobHarness): Promise<void> {
  const backend = await h.backend();
  const jobs = await h.queue([Task]);
  const { id } = await jobs.enqueue(Task, { label: 'survivor' }, { attempts: 3 });
  const claimedAt = Date.now();
  const [claimed] = await h.claimAsCrashedWorker(backend, CRASHED_LEASE_MS);
  expect(
    { id: claimed?.id, state: claimed?.state, worker: claimed?.lease.worker, failures: claimed?.failures },
    'the crashed worker claimed the job',
  ).toEqual({ id, state: 'active', worker: 'crashed-worker', failures: 0 });

  const runs: Array<{ attempt: number; at: number }> = [];
  const worker = (await h.peerQueue([Task])).work({
    [Task.type]: (_payload, ctx) => void runs.push({ attempt: ctx.attempt, at: Date.now() }),
  });
  const job = await h.waitForState(jobs, id, ['completed', 'dead'], CRASHED_LEASE_MS + h.timeoutMs);
  await h.quiet();
  expect(
    runs.map((run) => run.attempt),
    `the job ran once more, as attempt 1 (${summarize(job)})`,
  ).toEqual([1]);
  const afterMs = (runs[0]?.at ?? Number.NaN) - claimedAt;
  expect(
    afterMs,
    `the job ran again ${afterMs} ms after the claim; not before the lease expired`,
  ).toBeGreaterThanOrEqual(CRASHED_LEASE_MS - CLOCK_SLACK_MS);
  expect(
    {
      state: job.state,
      failures: job.failures,
      crashes: job.crashes,
      errors: attemptErrors(job).map(({ attempt, kind }) => ({ attempt, kind })),
    },
    'a crash is recorded apart from failures and does not use up an attempt',
  ).toEqual({ state: 'completed', failures: 0, crashes: 1, errors: [{ attempt: 1, kind: 'crash' }] });
  expect(worker.state, 'the worker that took over is running').toBe('running');
}

/** Plays the recoverer: calls `recover` until the expired lease of job `id` was recovered. */
async function recoverAfterExpiry(
  h: JobHarness,
  backend: JobBackend,
  jobs: QueueView,
  id: string,
): Promise<void> {
  let job: JobRecord | undefined;
  await h.waitFor(
    async () => {
      await backend.recover(jobs.name);
      job = await jobs.get(id);
      return job !== undefined && job.state !== 'active';
    },
    () => `backend.recover() to recover the expired lease (job ${id} is ${summarize(job)})`,
    CRASHED_LEASE_MS + h.timeoutMs,
  );
}

async function crashLimit(h: JobHarness): Promise<void> {
  const backend = await h.backend();
  const jobs = await h.queue([Task]);
  const { id } = await jobs.enqueue(Task, { label: 'killer' }, { maxCrashes: 2, attempts: 5 });
  // No worker runs: the test itself plays both the crashing workers and the recoverer.
  for (let crash = 1; crash <= 2; crash++) {
    const [claimed] = await h.claimAsCrashedWorker(backend, CRASHED_LEASE_MS, 1, `crashed-worker-${crash}`);
    expect(claimed?.id, `crashed worker ${crash} claims the job`).toBe(id);
    await recoverAfterExpiry(h, backend, jobs, id);
    const job = await jobs.get(id);
    if (crash === 1) {
      expect(
        { state: job?.state, crashes: job?.crashes, failures: job?.failures },
        'after the first crash the job is pending again, with one crash and no failure',
      ).toEqual({ state: 'pending', crashes: 1, failures: 0 });
    }
  }
  const dead = await jobs.get(id);
  expect(
    {
      state: dead?.state,
      deadReason: dead?.deadReason,
      crashes: dead?.crashes,
      failures: dead?.failures,
      errors: attemptErrors(dead).map(({ attempt, kind }) => ({ attempt, kind })),
    },
    'after maxCrashes crashes the job is dead with CRASH_LIMIT, each crash in its history',
  ).toEqual({
    state: 'dead',
    deadReason: 'CRASH_LIMIT',
    crashes: 2,
    failures: 0,
    errors: [
      { attempt: 1, kind: 'crash' },
      { attempt: 1, kind: 'crash' },
    ],
  });
  const runs: string[] = [];
  jobs.work({ [Task.type]: ({ label }) => void runs.push(label) });
  await h.quiet(100);
  expect(runs, 'a job dead with CRASH_LIMIT does not run').toEqual([]);
}

async function staleTokenChangesNothing(h: JobHarness): Promise<void> {
  const backend = await h.backend();
  const jobs = await h.queue([Task]);
  const { id } = await jobs.enqueue(Task, { label: 'contested' });
  const [claimed] = await h.claimAsCrashedWorker(backend, CRASHED_LEASE_MS);
  if (claimed === undefined) throw new Error('the crashed worker claimed nothing');
  const stale = { id: claimed.id, token: claimed.lease.token };

  const gate = deferred();
  let runs = 0;
  (await h.peerQueue([Task])).work({
    [Task.type]: async () => {
      runs++;
      await gate.promise;
      return 'from the live worker';
    },
  });
  const taken = await h.waitForJob(
    jobs,
    id,
    (job) => job?.state === 'active' && job.lease?.token !== stale.token,
    'a live worker to take over the job',
    CRASHED_LEASE_MS + h.timeoutMs,
  );
  const queue = jobs.name;
  const late = {
    complete: await backend.complete(queue, stale, 'from the dead worker', 60_000),
    fail: await backend.fail(queue, stale, {
      kind: 'error',
      error: { name: 'Error', message: 'late failure' },
      outcome: { kind: 'dead', reason: 'NON_RETRYABLE' },
    }),
    release: await backend.release(queue, stale),
    progress: await backend.progress(queue, stale, 'late progress'),
    extend: await backend.extend(queue, [stale], 60_000),
  };
  expect(late, "every call with the crashed worker's old token is refused").toEqual({
    complete: false,
    fail: false,
    release: false,
    progress: false,
    extend: ['lost'],
  });
  const during = await jobs.get(id);
  expect(
    {
      state: during?.state,
      token: during?.lease?.token,
      result: during?.result,
      progress: during?.progress,
      failures: during?.failures,
    },
    'the refused calls changed nothing',
  ).toEqual({
    state: 'active',
    token: taken?.lease?.token,
    result: undefined,
    progress: undefined,
    failures: 0,
  });

  gate.resolve();
  const done = await h.waitForState(jobs, id, ['completed', 'dead']);
  expect(
    await backend.complete(queue, stale, 'from the dead worker', 60_000),
    'a late complete() after completion',
  ).toBe(false);
  const after = await jobs.get(id);
  await h.quiet();
  expect(
    { state: after?.state, result: after?.result, finishedAt: after?.finishedAt, runs },
    `the job completed once, with the live worker's result (${summarize(done)})`,
  ).toEqual({ state: 'completed', result: 'from the live worker', finishedAt: done.finishedAt, runs: 1 });
}

/**
 * The backend as a worker sees it once it is cut off from its store: every lease renewal answers `lost`, and
 * claims find nothing (so that, however slow the machine, this worker cannot take the job again once it is
 * recovered).
 */
function losingLeases(backend: JobBackend): { backend: JobBackend; lose: () => void } {
  let losing = false;
  const wrapped = new Proxy(backend, {
    get(target, property) {
      if (property === 'extend' && losing) {
        return async (_queue: string, leases: ReadonlyArray<unknown>) => leases.map(() => 'lost' as const);
      }
      if (property === 'claim' && losing) return async () => [];
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return {
    backend: wrapped,
    lose: () => {
      losing = true;
    },
  };
}

async function lostLeaseStopsTheJob(h: JobHarness): Promise<void> {
  const shared = await h.backend();
  const { backend, lose } = losingLeases(shared);
  const jobs = await h.queue([Task], { backend });
  let firstAborted = false;
  const runs: string[] = [];
  const first = jobs.work({
    [Task.type]: async (_payload, ctx) => {
      runs.push('first worker');
      // Ignores the abort and returns: the worker must still not complete a job whose lease it lost.
      await aborted(ctx.signal);
      firstAborted = true;
      return 'from the worker that lost its lease';
    },
  });
  const { id } = await jobs.enqueue(Task, { label: 'lost' });
  await h.waitFor(() => runs.length === 1, 'the first worker to start the job');
  lose();
  await h.waitFor(() => firstAborted, "the job's signal to abort once its worker is told the lease is lost");
  await first.close();
  (await h.queue([Task], { backend: shared })).work({
    [Task.type]: () => {
      runs.push('second worker');
      return 'from the second worker';
    },
  });
  const job = await h.waitForState(jobs, id, ['completed', 'dead'], h.leaseTtlMs + h.timeoutMs);
  await h.quiet();
  expect(
    { state: job.state, result: job.result, runs },
    `the worker that lost the lease never completes the job; another runs it (${summarize(job)})`,
  ).toEqual({
    state: 'completed',
    result: 'from the second worker',
    runs: ['first worker', 'second worker'],
  });
}

/** Scenario 9: a crashed worker's job comes back after its lease, counted as a crash; stale tokens are refused. */
export const crashesAndLeasesScenario: JobScenario = {
  name: 'crashes-and-leases',
  tests: [
    {
      title:
        'a job claimed by a worker that then died runs again after its lease expires, as the same attempt, with a crash in its history and no failure',
      run: crashedWorkerJobRunsAgain,
    },
    {
      title:
        'a worker told its lease is lost aborts the job’s signal and never completes it, even when the handler returns; another worker runs it',
      run: lostLeaseStopsTheJob,
    },
    {
      title: 'a job whose workers crash maxCrashes times is dead with CRASH_LIMIT and does not run again',
      run: crashLimit,
    },
    {
      title:
        "a crashed worker's late complete, fail, release, progress and extend with its old token are refused and change nothing; the job completes once",
      run: staleTokenChangesNothing,
    },
  ],
};

import { JOB_STATES, type JobState } from '../../../jobs/backend';
import { expect } from '../../expect';
import { aborted, deferred, summarize } from '../assertions';
import { Task } from '../catalog';
import type { JobHarness } from '../harness';
import type { JobScenario } from '../scenario';

const LONG_BACKOFF = { initialDelayMs: 60_000, maxDelayMs: 60_000, jitter: 'none' } as const;

async function countsPerState(h: JobHarness): Promise<void> {
  const jobs = await h.queue([Task]);
  const gate = deferred();
  jobs.work(
    {
      [Task.type]: async ({ label }) => {
        if (label === 'dead' || label === 'retry') throw new Error(label);
        if (label === 'active') await gate.promise;
      },
    },
    { concurrency: 4 },
  );
  const byState = new Map<JobState, string[]>();
  const add = (state: JobState, id: string): void =>
    void byState.set(state, [...(byState.get(state) ?? []), id]);
  const completed = await jobs.enqueue(Task, { label: 'completed' });
  const dead = await jobs.enqueue(Task, { label: 'dead' }, { attempts: 1 });
  const retry = await jobs.enqueue(Task, { label: 'retry' }, { attempts: 2, backoff: LONG_BACKOFF });
  const active = await jobs.enqueue(Task, { label: 'active' });
  for (const [state, job] of [
    ['completed', completed],
    ['dead', dead],
    ['retry', retry],
    ['active', active],
  ] as const) {
    await h.waitForState(jobs, job.id, state);
    add(state, job.id);
  }
  await jobs.pause();
  for (const label of ['pending-1', 'pending-2']) add('pending', (await jobs.enqueue(Task, { label })).id);
  add('scheduled', (await jobs.enqueue(Task, { label: 'scheduled' }, { delayMs: 60_000 })).id);

  const inspected = await jobs.inspect();
  expect(
    { queue: inspected.queue, paused: inspected.paused, counts: inspected.counts },
    'inspect() counts the jobs in each state',
  ).toStrictEqual({
    queue: jobs.name,
    paused: true,
    counts: { scheduled: 1, pending: 2, active: 1, retry: 1, completed: 1, dead: 1 },
  });
  const oldestPending = await jobs.get(byState.get('pending')?.[0] ?? '');
  expect(inspected.oldestPendingAt, 'oldestPendingAt is the due time of the oldest pending job').toBe(
    oldestPending?.runAt,
  );
  for (const state of JOB_STATES) {
    const page = await jobs.list({ state });
    expect(
      page.jobs.map((job) => job.id),
      `list({ state: '${state}' })`,
    ).toEqual(byState.get(state) ?? []);
    expect(
      page.jobs.map((job) => job.state),
      `the jobs list({ state: '${state}' }) returns are ${state}`,
    ).toEqual(page.jobs.map(() => state));
  }
  gate.resolve();
}

async function paging(h: JobHarness): Promise<void> {
  const jobs = await h.queue([Task]);
  const ids: string[] = [];
  for (let index = 0; index < 25; index++) ids.push((await jobs.enqueue(Task, { label: `p${index}` })).id);
  const pages: string[][] = [];
  let after: string | undefined;
  do {
    const page = await jobs.list({ state: 'pending', limit: 10, ...(after === undefined ? {} : { after }) });
    pages.push(page.jobs.map((job) => job.id));
    after = page.next;
  } while (after !== undefined && pages.length < 10);
  expect(
    pages.map((page) => page.length),
    'pages of 10, the last one partial, with no next after it',
  ).toEqual([10, 10, 5]);
  expect(pages.flat(), 'the pages list every pending job once, oldest first').toEqual(ids);
  const empty = await jobs.list({ state: 'dead' });
  expect({ jobs: empty.jobs, next: empty.next }, 'a state with no jobs').toEqual({
    jobs: [],
    next: undefined,
  });
}

async function history(h: JobHarness): Promise<void> {
  const jobs = await h.queue([Task]);
  jobs.work({
    [Task.type]: async (_payload, ctx) => {
      await ctx.progress({ percent: ctx.attempt * 50 });
      if (ctx.attempt === 1) throw new Error('first try fails');
      return { report: 'ok' };
    },
  });
  const before = Date.now();
  const { id } = await jobs.enqueue(
    Task,
    { label: 'tracked' },
    { attempts: 3, priority: 'high', group: 'g-1', backoff: { initialDelayMs: 10, jitter: 'none' } },
  );
  await h.waitForState(jobs, id, ['completed', 'dead']);
  const job = await jobs.get(id);
  expect(
    {
      id: job?.id,
      queue: job?.queue,
      type: job?.type,
      state: job?.state,
      payload: job?.payload,
      priority: job?.priority,
      group: job?.group,
      maxAttempts: job?.maxAttempts,
      failures: job?.failures,
      progress: job?.progress,
      result: job?.result,
      errors: job?.errors.map((entry) => ({
        attempt: entry.attempt,
        kind: entry.kind,
        message: entry.error.message,
      })),
    },
    'get() returns the job with its history',
  ).toStrictEqual({
    id,
    queue: jobs.name,
    type: Task.type,
    state: 'completed',
    payload: { label: 'tracked' },
    priority: 'high',
    group: 'g-1',
    maxAttempts: 3,
    failures: 1,
    progress: { percent: 100 },
    result: { report: 'ok' },
    errors: [{ attempt: 1, kind: 'error', message: 'first try fails' }],
  });
  expect(job?.enqueuedAt, 'enqueuedAt').toBeGreaterThanOrEqual(before - 1_000);
  expect(job?.errors[0]?.at, 'when the error happened').toBeGreaterThanOrEqual(job?.enqueuedAt ?? Number.NaN);
  expect(job?.finishedAt, 'finishedAt').toBeGreaterThanOrEqual(job?.startedAt ?? Number.NaN);
  expect(await jobs.get('no-such-job'), 'get() of an unknown id').toBeUndefined();
}

async function cancelWaiting(h: JobHarness): Promise<void> {
  const jobs = await h.queue([Task]);
  await jobs.pause();
  const scheduled = await jobs.enqueue(Task, { label: 'scheduled' }, { delayMs: 150 });
  const pending = await jobs.enqueue(Task, { label: 'pending' });
  const kept = await jobs.enqueue(Task, { label: 'kept' });
  expect(await jobs.cancel(scheduled.id), 'cancel() of a scheduled job').toBe('cancelled');
  expect(await jobs.cancel(pending.id), 'cancel() of a pending job').toBe('cancelled');
  expect(await jobs.cancel('no-such-job'), 'cancel() of an unknown id').toBe('not-found');
  expect([await jobs.get(scheduled.id), await jobs.get(pending.id)], 'cancelled jobs are removed').toEqual([
    undefined,
    undefined,
  ]);
  const labels: string[] = [];
  jobs.work({ [Task.type]: ({ label }) => void labels.push(label) });
  await jobs.resume();
  await h.waitForState(jobs, kept.id, 'completed');
  expect(await jobs.cancel(kept.id), 'cancel() of a completed job').toBe('finished');
  expect((await jobs.get(kept.id))?.state, 'a finished job stays as it was').toBe('completed');
  await h.quiet(200);
  expect(labels, 'cancelled jobs never run').toEqual(['kept']);
}

async function cancelActive(h: JobHarness): Promise<void> {
  const jobs = await h.queue([Task]);
  let runs = 0;
  let signalAborted = false;
  jobs.work({
    [Task.type]: async ({ label }, ctx) => {
      if (label === 'fails') throw new Error('fails');
      runs++;
      await aborted(ctx.signal);
      signalAborted = true;
      throw new Error('aborted by cancel');
    },
  });
  const { id } = await jobs.enqueue(Task, { label: 'long' }, { attempts: 3 });
  await h.waitForState(jobs, id, 'active');
  expect(await jobs.cancel(id), 'cancel() of an active job').toBe('cancelling');
  await h.waitFor(() => signalAborted, "the active job's signal to abort after cancel()");
  const gone = await h.waitForJob(jobs, id, (job) => job === undefined, 'the cancelled job to be removed');
  expect(gone, 'the cancelled job is removed, not retried').toBeUndefined();
  await h.quiet(100);
  expect(runs, 'a cancelled job does not run again').toBe(1);

  const retrying = await jobs.enqueue(Task, { label: 'fails' }, { attempts: 2, backoff: LONG_BACKOFF });
  await h.waitForState(jobs, retrying.id, 'retry');
  expect(await jobs.cancel(retrying.id), 'cancel() of a job waiting for a retry').toBe('cancelled');
  expect(await h.totalJobs(jobs), `no job is left (${summarize(await jobs.get(retrying.id))})`).toBe(0);
}

async function pauseResume(h: JobHarness): Promise<void> {
  const jobs = await h.queue([Task]);
  const gate = deferred();
  const labels: string[] = [];
  jobs.work({
    [Task.type]: async ({ label }) => {
      labels.push(label);
      if (label === 'running') await gate.promise;
    },
  });
  const running = await jobs.enqueue(Task, { label: 'running' });
  await h.waitForState(jobs, running.id, 'active');
  await jobs.pause();
  const waiting = await jobs.enqueue(Task, { label: 'waiting' });
  expect(waiting.status, 'a paused queue accepts enqueues').toBe('enqueued');
  gate.resolve();
  await h.waitForState(jobs, running.id, 'completed');
  await h.quiet(150);
  const paused = await jobs.inspect();
  expect(
    { labels, paused: paused.paused, pending: paused.counts.pending },
    'pause(): the running job finishes, and no new job starts',
  ).toEqual({ labels: ['running'], paused: true, pending: 1 });
  await jobs.resume();
  await h.waitForState(jobs, waiting.id, 'completed');
  expect((await jobs.inspect()).paused, 'resume() unpauses').toBe(false);
  expect(labels, 'after resume() the waiting job runs').toEqual(['running', 'waiting']);
}

/** Scenario 11: counts per state, paged listing, a job's history, cancel, pause and resume. */
export const inspectionAndControlScenario: JobScenario = {
  name: 'inspection-and-control',
  tests: [
    { title: 'inspect() counts jobs per state and list() returns each state’s jobs', run: countsPerState },
    { title: 'list() pages through a state oldest first with limit and after', run: paging },
    { title: 'get() returns a job with its payload, options, errors, progress and result', run: history },
    {
      title:
        'cancel() removes a scheduled or pending job, which never runs; a finished job stays, an unknown one is not-found',
      run: cancelWaiting,
    },
    {
      title:
        'cancel() of an active job aborts its signal and removes it without retry; of a retrying job removes it',
      run: cancelActive,
    },
    {
      title:
        'pause() lets running jobs finish and starts no new one; a paused queue accepts enqueues; resume() runs them',
      run: pauseResume,
    },
  ],
};

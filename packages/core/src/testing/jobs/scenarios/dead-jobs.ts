import type { JobQueue } from '../../../jobs/types';
import { expect } from '../../expect';
import { attemptErrors } from '../assertions';
import { Task } from '../catalog';
import type { JobHarness } from '../harness';
import type { JobScenario } from '../scenario';

/** A queue whose handler fails while `failing` is true; three jobs that died after two attempts each. */
async function deadJobs(h: JobHarness): Promise<{
  jobs: JobQueue<typeof Task>;
  ids: string[];
  runs: Array<{ label: string; attempt: number }>;
  heal: () => void;
}> {
  const jobs = await h.queue([Task]);
  let failing = true;
  const runs: Array<{ label: string; attempt: number }> = [];
  jobs.work({
    [Task.type]: ({ label }, ctx) => {
      if (failing) throw new Error(`${label} failed on ${ctx.attempt}`);
      runs.push({ label, attempt: ctx.attempt });
      return `${label} ok`;
    },
  });
  const ids: string[] = [];
  for (const label of ['d0', 'd1', 'd2']) {
    const { id } = await jobs.enqueue(
      Task,
      { label },
      { attempts: 2, backoff: { initialDelayMs: 5, jitter: 'none' } },
    );
    await h.waitForState(jobs, id, 'dead');
    ids.push(id);
  }
  const heal = (): void => {
    failing = false;
  };
  return { jobs, ids, runs, heal };
}

async function listDead(h: JobHarness): Promise<void> {
  const { jobs, ids } = await deadJobs(h);
  const first = await jobs.dead.list({ limit: 2 });
  expect(
    first.jobs.map((job) => job.id),
    'the first page of dead jobs, oldest first',
  ).toEqual(ids.slice(0, 2));
  expect(typeof first.next, 'a next cursor when more dead jobs follow').toBe('string');
  const second = await jobs.dead.list({
    limit: 2,
    ...(first.next === undefined ? {} : { after: first.next }),
  });
  expect({ ids: second.jobs.map((job) => job.id), next: second.next }, 'the last page of dead jobs').toEqual({
    ids: ids.slice(2),
    next: undefined,
  });
  const [job] = first.jobs;
  expect(
    { deadReason: job?.deadReason, errors: attemptErrors(job) },
    'a dead job comes with every attempt’s error',
  ).toEqual({
    deadReason: 'MAX_ATTEMPTS',
    errors: [
      { attempt: 1, kind: 'error', message: 'd0 failed on 1' },
      { attempt: 2, kind: 'error', message: 'd0 failed on 2' },
    ],
  });
}

async function retryOne(h: JobHarness): Promise<void> {
  const { jobs, ids, runs, heal } = await deadJobs(h);
  heal();
  const [first, ...others] = ids;
  expect(await jobs.dead.retry(first ?? ''), 'dead.retry(id) of one dead job').toBe(1);
  const job = await h.waitForState(jobs, first ?? '', ['completed', 'dead']);
  expect(
    { state: job.state, result: job.result, runs },
    'the retried job runs again with its attempts reset, and completes',
  ).toEqual({ state: 'completed', result: 'd0 ok', runs: [{ label: 'd0', attempt: 1 }] });
  expect(
    (await Promise.all(others.map((id) => jobs.get(id)))).map((other) => other?.state),
    'the other dead jobs stay dead',
  ).toEqual(['dead', 'dead']);
  expect(await jobs.dead.retry(['no-such-job']), 'dead.retry() of an id that is not dead').toBe(0);
  expect(await jobs.dead.retry([first ?? '']), 'dead.retry() of a job that is no longer dead').toBe(0);
}

async function retryAll(h: JobHarness): Promise<void> {
  const { jobs, ids, runs, heal } = await deadJobs(h);
  heal();
  expect(await jobs.dead.retryAll(), 'dead.retryAll() returns how many it retried').toBe(3);
  for (const id of ids) await h.waitForState(jobs, id, 'completed');
  expect(
    runs.map((run) => `${run.label}#${run.attempt}`).sort(),
    'every dead job ran once more, from attempt 1',
  ).toEqual(['d0#1', 'd1#1', 'd2#1']);
  expect((await jobs.dead.list()).jobs, 'the dead list is empty').toEqual([]);
}

async function purge(h: JobHarness): Promise<void> {
  const { jobs, ids, heal } = await deadJobs(h);
  const [first, ...others] = ids;
  expect(await jobs.dead.purge([first ?? '']), 'dead.purge([id])').toBe(1);
  expect(await jobs.get(first ?? ''), 'a purged job is gone').toBeUndefined();
  expect(await jobs.dead.purge(), 'dead.purge() of the rest').toBe(others.length);
  expect((await jobs.inspect()).counts.dead, 'no dead job is left').toBe(0);
  expect(await Promise.all(others.map((id) => jobs.get(id))), 'every purged job is gone').toEqual(
    others.map(() => undefined),
  );

  heal();
  const done = await jobs.enqueue(Task, { label: 'done' });
  await h.waitForState(jobs, done.id, 'completed');
  expect(await jobs.purgeCompleted(), 'purgeCompleted() removes completed jobs the same way').toBe(1);
  expect(await h.totalJobs(jobs), 'the queue is empty').toBe(0);
}

/** Scenario 12: the dead list can be read page by page, retried one or all at a time, and purged. */
export const deadJobsScenario: JobScenario = {
  name: 'dead-jobs',
  tests: [
    {
      title: 'dead.list() pages through dead jobs oldest first, each with every attempt’s error',
      run: listDead,
    },
    {
      title: 'dead.retry(id) runs one dead job again from attempt 1; the others stay dead',
      run: retryOne,
    },
    { title: 'dead.retryAll() runs every dead job again', run: retryAll },
    {
      title: 'dead.purge() removes dead jobs for good, by id and then all; purgeCompleted() completed ones',
      run: purge,
    },
  ],
};

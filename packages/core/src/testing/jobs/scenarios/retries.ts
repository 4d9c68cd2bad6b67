import { NonRetryableError } from '../../../errors';
import { expect } from '../../expect';
import { attemptErrors, CLOCK_SLACK_MS, summarize } from '../assertions';
import { Task, taskJob } from '../catalog';
import type { JobHarness } from '../harness';
import type { JobScenario } from '../scenario';

const QUICK = { initialDelayMs: 10, jitter: 'none' } as const;

async function failsThenSucceeds(h: JobHarness): Promise<void> {
  const jobs = await h.queue([Task]);
  const attempts: number[] = [];
  jobs.work({
    [Task.type]: (_payload, ctx) => {
      attempts.push(ctx.attempt);
      if (ctx.attempt < 3) throw new Error(`boom ${ctx.attempt}`);
      return `done on ${ctx.attempt}`;
    },
  });
  const { id } = await jobs.enqueue(Task, { label: 'flaky' }, { attempts: 5, backoff: QUICK });
  const job = await h.waitForState(jobs, id, ['completed', 'dead']);
  await h.quiet();
  expect(attempts, `ctx.attempt of each run (${summarize(job)})`).toEqual([1, 2, 3]);
  expect(
    { state: job.state, result: job.result, failures: job.failures, crashes: job.crashes },
    'the job completes on its third attempt with that attempt’s result',
  ).toEqual({ state: 'completed', result: 'done on 3', failures: 2, crashes: 0 });
  expect(attemptErrors(job), 'each failed attempt’s error is kept').toEqual([
    { attempt: 1, kind: 'error', message: 'boom 1' },
    { attempt: 2, kind: 'error', message: 'boom 2' },
  ]);
}

async function exhaustsAttempts(h: JobHarness): Promise<void> {
  const jobs = await h.queue([Task]);
  const attempts: number[] = [];
  jobs.work({
    [Task.type]: (_payload, ctx) => {
      attempts.push(ctx.attempt);
      throw new TypeError(`fail ${ctx.attempt}`);
    },
  });
  const { id } = await jobs.enqueue(Task, { label: 'doomed' }, { attempts: 3, backoff: QUICK });
  const job = await h.waitForState(jobs, id, ['dead', 'completed']);
  await h.quiet();
  expect(attempts, 'the handler runs exactly `attempts` times').toEqual([1, 2, 3]);
  expect(
    { state: job.state, deadReason: job.deadReason, failures: job.failures },
    'after the last attempt the job is dead',
  ).toEqual({ state: 'dead', deadReason: 'MAX_ATTEMPTS', failures: 3 });
  expect(attemptErrors(job), 'every attempt’s error is kept').toEqual([
    { attempt: 1, kind: 'error', message: 'fail 1' },
    { attempt: 2, kind: 'error', message: 'fail 2' },
    { attempt: 3, kind: 'error', message: 'fail 3' },
  ]);
  expect(job.errors[0]?.error.name, 'the error keeps its class name').toBe('TypeError');
  const dead = await jobs.dead.list();
  expect(
    dead.jobs.map((entry) => entry.id),
    'the job is on the dead list',
  ).toEqual([id]);
}

async function nonRetryable(h: JobHarness): Promise<void> {
  const jobs = await h.queue([Task]);
  let runs = 0;
  jobs.work({
    [Task.type]: () => {
      runs++;
      throw new NonRetryableError('the invoice was deleted');
    },
  });
  const { id } = await jobs.enqueue(Task, { label: 'hopeless' }, { attempts: 5, backoff: QUICK });
  const job = await h.waitForState(jobs, id, ['dead', 'completed']);
  await h.quiet();
  expect(runs, 'a job whose handler throws NonRetryableError runs once').toBe(1);
  expect(
    {
      state: job.state,
      deadReason: job.deadReason,
      errors: attemptErrors(job),
      code: job.errors[0]?.error.code,
    },
    'it is dead at once',
  ).toEqual({
    state: 'dead',
    deadReason: 'NON_RETRYABLE',
    errors: [{ attempt: 1, kind: 'error', message: 'the invoice was deleted' }],
    code: 'NON_RETRYABLE',
  });
}

async function backoffFunction(h: JobHarness): Promise<void> {
  const PAUSE_MS = 150;
  const calls: Array<[number, string]> = [];
  const Flaky = taskJob('conformance.backoff', {
    attempts: 3,
    backoff: (attempt, error) => {
      calls.push([attempt, error.message]);
      return PAUSE_MS;
    },
  });
  const jobs = await h.queue([Flaky]);
  const startedAt: number[] = [];
  const failedAt: number[] = [];
  jobs.work({
    [Flaky.type]: (_payload, ctx) => {
      startedAt.push(Date.now());
      if (ctx.attempt < 3) {
        failedAt.push(Date.now());
        throw new Error(`flaky ${ctx.attempt}`);
      }
    },
  });
  const { id } = await jobs.enqueue(Flaky, { label: 'paced' });
  const waiting = await h.waitForState(jobs, id, ['retry', 'completed', 'dead']);
  expect(waiting.state, 'between attempts the job waits in retry').toBe('retry');
  const job = await h.waitForState(jobs, id, ['completed', 'dead'], 2 * PAUSE_MS + h.timeoutMs);
  expect(job.state, `the job completes on its third attempt (${summarize(job)})`).toBe('completed');
  expect(calls, "the definition's backoff function is called with each failed attempt and its error").toEqual(
    [
      [1, 'flaky 1'],
      [2, 'flaky 2'],
    ],
  );
  for (const index of [0, 1]) {
    const pauseMs = (startedAt[index + 1] ?? Number.NaN) - (failedAt[index] ?? Number.NaN);
    expect(
      pauseMs,
      `attempt ${index + 2} started ${pauseMs} ms after attempt ${index + 1} failed; the backoff asked for ${PAUSE_MS}`,
    ).toBeGreaterThanOrEqual(PAUSE_MS - CLOCK_SLACK_MS);
  }
}

async function backoffOptions(h: JobHarness): Promise<void> {
  const PAUSE_MS = 150;
  const jobs = await h.queue([Task]);
  const startedAt: number[] = [];
  jobs.work({
    [Task.type]: (_payload, ctx) => {
      startedAt.push(Date.now());
      if (ctx.attempt === 1) throw new Error('once');
    },
  });
  const { id } = await jobs.enqueue(
    Task,
    { label: 'paced' },
    { attempts: 2, backoff: { initialDelayMs: PAUSE_MS, jitter: 'none' } },
  );
  const job = await h.waitForState(jobs, id, ['completed', 'dead'], PAUSE_MS + h.timeoutMs);
  expect(job.state, `the job completes on its second attempt (${summarize(job)})`).toBe('completed');
  const pauseMs = (startedAt[1] ?? Number.NaN) - (startedAt[0] ?? Number.NaN);
  expect(
    pauseMs,
    `the second attempt started ${pauseMs} ms after the first; backoff { initialDelayMs: ${PAUSE_MS}, jitter: 'none' }`,
  ).toBeGreaterThanOrEqual(PAUSE_MS - CLOCK_SLACK_MS);
}

/** Scenario 4: failed attempts are retried with backoff, kept in the history, and end on the dead list. */
export const retriesScenario: JobScenario = {
  name: 'retries',
  tests: [
    {
      title: 'a job that fails twice then succeeds runs with ctx.attempt 1, 2, 3 and keeps both errors',
      run: failsThenSucceeds,
    },
    {
      title:
        'a job that fails every attempt is dead with MAX_ATTEMPTS after exactly `attempts` runs, with each error',
      run: exhaustsAttempts,
    },
    {
      title: 'NonRetryableError sends a job to the dead list at once, with NON_RETRYABLE',
      run: nonRetryable,
    },
    {
      title: "the definition's backoff function is called with each failed attempt and sets the pause",
      run: backoffFunction,
    },
    { title: 'backoff options given at enqueue set the pause before the next attempt', run: backoffOptions },
  ],
};

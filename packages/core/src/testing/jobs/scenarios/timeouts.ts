import { expect } from '../../expect';
import { aborted, attemptErrors, CLOCK_SLACK_MS, summarize } from '../assertions';
import { Task } from '../catalog';
import type { JobHarness } from '../harness';
import type { JobScenario } from '../scenario';

const TIMEOUT_MS = 150;

async function timeoutAborts(h: JobHarness): Promise<void> {
  const jobs = await h.queue([Task]);
  const runs: Array<{ attempt: number; startedAt: number; abortedAt?: number; reason?: unknown }> = [];
  jobs.work({
    [Task.type]: async (_payload, ctx) => {
      const run: (typeof runs)[number] = { attempt: ctx.attempt, startedAt: Number.NaN };
      runs.push(run);
      if (ctx.attempt > 1) return 'in time';
      // The attempt started when the job was claimed (the backend's startedAt), maybe a little before this call.
      run.startedAt = (await jobs.get(ctx.jobId))?.startedAt ?? Number.NaN;
      await aborted(ctx.signal);
      run.abortedAt = Date.now();
      run.reason = ctx.signal.reason;
      throw ctx.signal.reason;
    },
  });
  const { id } = await jobs.enqueue(
    Task,
    { label: 'slow' },
    { timeoutMs: TIMEOUT_MS, attempts: 2, backoff: { initialDelayMs: 10, jitter: 'none' } },
  );
  const job = await h.waitForState(jobs, id, ['completed', 'dead'], TIMEOUT_MS + h.timeoutMs);
  const [first, second] = runs;
  expect(first?.abortedAt !== undefined, 'the signal of the attempt that ran past timeoutMs is aborted').toBe(
    true,
  );
  const ranMs = (first?.abortedAt ?? Number.NaN) - (first?.startedAt ?? Number.NaN);
  expect(
    ranMs,
    `the signal aborted ${ranMs} ms after the start; timeoutMs is ${TIMEOUT_MS}`,
  ).toBeGreaterThanOrEqual(TIMEOUT_MS - CLOCK_SLACK_MS);
  expect(
    { state: job.state, result: job.result, failures: job.failures, secondAttempt: second?.attempt },
    `the timed-out attempt counts as failed and the next one runs (${summarize(job)})`,
  ).toEqual({ state: 'completed', result: 'in time', failures: 1, secondAttempt: 2 });
  expect(
    attemptErrors(job).map(({ attempt, kind }) => ({ attempt, kind })),
    'the timeout is in the history with kind timeout',
  ).toEqual([{ attempt: 1, kind: 'timeout' }]);
  expect(job.errors[0]?.error.code, 'a timeout is recorded as HANDLER_TIMEOUT').toBe('HANDLER_TIMEOUT');
}

async function neverSettles(h: JobHarness): Promise<void> {
  const jobs = await h.queue([Task]);
  const labels: string[] = [];
  jobs.work(
    {
      [Task.type]: ({ label }) => {
        labels.push(label);
        // A handler that ignores its signal and never settles.
        return label === 'stuck' ? new Promise(() => {}) : 'done';
      },
    },
    { concurrency: 1 },
  );
  const stuck = await jobs.enqueue(Task, { label: 'stuck' }, { timeoutMs: TIMEOUT_MS, attempts: 1 });
  const next = await jobs.enqueue(Task, { label: 'next' });
  const job = await h.waitForState(jobs, stuck.id, ['dead', 'completed'], TIMEOUT_MS + h.timeoutMs);
  expect(
    { state: job.state, deadReason: job.deadReason, kinds: job.errors.map((entry) => entry.kind) },
    'a handler that never settles has its attempt failed at the timeout',
  ).toEqual({ state: 'dead', deadReason: 'MAX_ATTEMPTS', kinds: ['timeout'] });
  const after = await h.waitForState(jobs, next.id, ['completed', 'dead']);
  expect(after.state, 'the worker (concurrency 1) goes on to the next job').toBe('completed');
  expect(labels, 'each job ran once').toEqual(['stuck', 'next']);
}

/** Scenario 5: `timeoutMs` aborts the handler's signal and fails the attempt with kind `timeout`. */
export const timeoutsScenario: JobScenario = {
  name: 'timeouts',
  tests: [
    {
      title: `an attempt running past timeoutMs ${TIMEOUT_MS} has its signal aborted and fails with kind timeout; the next attempt runs`,
      run: timeoutAborts,
    },
    {
      title:
        'a handler that ignores its signal and never settles is failed at the timeout and frees its slot',
      run: neverSettles,
    },
  ],
};

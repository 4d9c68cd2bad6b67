import type { EnqueueOptions } from '../../../jobs/types';
import { expect } from '../../expect';
import { CLOCK_SLACK_MS } from '../assertions';
import { Task } from '../catalog';
import type { JobHarness } from '../harness';
import type { JobScenario } from '../scenario';

const DELAY_MS = 250;

async function delayedJob(h: JobHarness, delay: (now: number) => EnqueueOptions, how: string): Promise<void> {
  const jobs = await h.queue([Task]);
  const started = new Map<string, number>();
  jobs.work({ [Task.type]: ({ label }) => void started.set(label, Date.now()) });
  const enqueuedAt = Date.now();
  const later = await jobs.enqueue(Task, { label: 'delayed' }, delay(enqueuedAt));
  const waiting = await jobs.get(later.id);
  expect(waiting?.state, `a job enqueued with ${how} waits as scheduled`).toBe('scheduled');
  expect(waiting?.runAt, 'its runAt is the due time').toBeGreaterThanOrEqual(
    enqueuedAt + DELAY_MS - CLOCK_SLACK_MS,
  );
  await jobs.enqueue(Task, { label: 'immediate' });

  await h.waitFor(
    () => started.size === 2,
    () => `both jobs to start (${[...started.keys()].join(', ')})`,
    DELAY_MS + h.timeoutMs,
  );
  expect([...started.keys()], 'the job enqueued later without a delay runs first').toEqual([
    'immediate',
    'delayed',
  ]);
  const waitedMs = (started.get('delayed') ?? Number.NaN) - enqueuedAt;
  expect(
    waitedMs,
    `a job enqueued with ${how} started ${waitedMs} ms after enqueue(); it must not start earlier`,
  ).toBeGreaterThanOrEqual(DELAY_MS - CLOCK_SLACK_MS);
  await h.waitForState(jobs, later.id, 'completed');
}

async function pastRunAt(h: JobHarness): Promise<void> {
  const jobs = await h.queue([Task]);
  const past = await jobs.enqueue(Task, { label: 'past' }, { runAt: Date.now() - 60_000 });
  expect((await jobs.get(past.id))?.state, 'a job whose runAt has passed is pending at once').toBe('pending');
  jobs.work({ [Task.type]: () => {} });
  await h.waitForState(jobs, past.id, 'completed');
}

/** Scenario 3: `delayMs` and `runAt` hold a job back until its time, and never start it early. */
export const delaysScenario: JobScenario = {
  name: 'delays',
  tests: [
    {
      title: `a job with delayMs ${DELAY_MS} is scheduled, then runs no earlier, after a later job without delay`,
      run: (h) => delayedJob(h, () => ({ delayMs: DELAY_MS }), `delayMs ${DELAY_MS}`),
    },
    {
      title: 'a job with runAt (a Date) runs no earlier than that time',
      run: (h) => delayedJob(h, (now) => ({ runAt: new Date(now + DELAY_MS) }), 'runAt as a Date'),
    },
    {
      title: 'a job with runAt (epoch milliseconds) runs no earlier than that time',
      run: (h) => delayedJob(h, (now) => ({ runAt: now + DELAY_MS }), 'runAt in epoch ms'),
    },
    { title: 'a job whose runAt has passed is pending at once and runs', run: pastRunAt },
  ],
};

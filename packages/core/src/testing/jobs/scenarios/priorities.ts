import type { JobPriority } from '../../../jobs/backend';
import { expect } from '../../expect';
import { Task } from '../catalog';
import type { JobHarness } from '../harness';
import type { JobScenario } from '../scenario';

async function strictOrder(h: JobHarness): Promise<void> {
  const jobs = await h.queue([Task], { priority: 'strict' });
  await jobs.pause();
  const levels: JobPriority[] = ['low', 'normal', 'critical', 'high'];
  for (let round = 0; round < 3; round++) {
    for (const priority of levels) await jobs.enqueue(Task, { label: `${priority}-${round}` }, { priority });
  }
  const started: string[] = [];
  jobs.work({ [Task.type]: ({ label }) => void started.push(label) }, { concurrency: 1 });
  await h.quiet(100);
  expect(started, 'a paused queue starts nothing').toEqual([]);
  await jobs.resume();
  await h.waitFor(
    () => started.length === 12,
    () => `all 12 jobs to start (${started.join(', ')})`,
  );
  expect(started, 'strict: every job of a higher priority first, in enqueue order within a level').toEqual(
    ['critical', 'high', 'normal', 'low'].flatMap((priority) =>
      [0, 1, 2].map((round) => `${priority}-${round}`),
    ),
  );
}

async function weightedNoStarvation(h: JobHarness): Promise<void> {
  const HIGH = 60;
  const LOW = 10;
  const WINDOW = 50;
  const jobs = await h.queue([Task], { priority: 'weighted' });
  await jobs.pause();
  await jobs.enqueueMany(
    Array.from({ length: LOW }, (_, index) => ({
      job: Task,
      payload: { label: `low-${index}` },
      options: { priority: 'low' as const },
    })),
  );
  await jobs.enqueueMany(
    Array.from({ length: HIGH }, (_, index) => ({
      job: Task,
      payload: { label: `high-${index}` },
      options: { priority: 'high' as const },
    })),
  );
  const started: string[] = [];
  jobs.work({ [Task.type]: ({ label }) => void started.push(label) }, { concurrency: 1 });
  await jobs.resume();
  await h.waitFor(
    () => started.length >= WINDOW,
    () => `${WINDOW} jobs to start (${started.length} did)`,
  );
  const first = started.slice(0, WINDOW);
  const lows = first.filter((label) => label.startsWith('low-'));
  // High is never empty during these starts: weights 4 to 1 give low about one start in five.
  expect(
    lows.length,
    `weighted: low priority gets starts while high priority always has jobs waiting (first ${WINDOW} starts: ${first.join(', ')})`,
  ).toBeGreaterThanOrEqual(1);
  expect(
    lows.length,
    `weighted: high priority still gets most of the first ${WINDOW} starts`,
  ).toBeLessThanOrEqual(Math.floor((WINDOW - 1) / 2));
  expect(lows, 'jobs of one level start in enqueue order').toEqual(lows.map((_, index) => `low-${index}`));
}

/** Scenario 7: strict priorities run higher levels first; weighted ones never starve a lower level. */
export const prioritiesScenario: JobScenario = {
  name: 'priorities',
  tests: [
    {
      title:
        'strict: jobs enqueued into a paused queue start after resume() highest priority first, in enqueue order within a level',
      run: strictOrder,
    },
    {
      title: 'weighted: low priority is not starved while high priority always has jobs waiting',
      run: weightedNoStarvation,
    },
  ],
};

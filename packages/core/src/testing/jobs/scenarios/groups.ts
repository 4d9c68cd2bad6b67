import { expect } from '../../expect';
import { sleep } from '../../wait-for';
import { CLOCK_SLACK_MS } from '../assertions';
import { Task, type TaskJob, taskJob } from '../catalog';
import type { JobHarness, QueueSettings } from '../harness';
import type { JobScenario } from '../scenario';

const WORKERS = 3;

/** Tracks how many jobs of each group run at once and in which order they start. */
class GroupTracker {
  readonly active = new Map<string, number>();
  readonly maxActive = new Map<string, number>();
  readonly starts = new Map<string, string[]>();
  readonly wrongGroup: string[] = [];
  running = 0;
  maxRunning = 0;
  finished = 0;

  async run(
    label: string,
    group: string | undefined,
    expectedGroup: string | undefined,
    workMs: number,
  ): Promise<void> {
    if (group !== expectedGroup)
      this.wrongGroup.push(`${label}: ctx.group ${group}, expected ${expectedGroup}`);
    const key = group ?? '(none)';
    this.starts.set(key, [...(this.starts.get(key) ?? []), label]);
    const now = (this.active.get(key) ?? 0) + 1;
    this.active.set(key, now);
    this.maxActive.set(key, Math.max(this.maxActive.get(key) ?? 0, now));
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    await sleep(workMs);
    this.running--;
    this.active.set(key, (this.active.get(key) ?? 1) - 1);
    this.finished++;
  }
}

async function startWorkers(
  h: JobHarness,
  handle: (label: string, group: string | undefined) => Promise<void>,
  settings: QueueSettings,
  jobs: ReadonlyArray<TaskJob>,
): Promise<void> {
  for (let worker = 0; worker < WORKERS; worker++) {
    const queue = await h.peerQueue(jobs, settings);
    const handlers = Object.fromEntries(
      jobs.map((job) => [
        job.type,
        (payload: { label: string }, ctx: { group: string | undefined }) => handle(payload.label, ctx.group),
      ]),
    );
    queue.work(handlers, { concurrency: 4 });
  }
}

async function fifoPerGroup(h: JobHarness): Promise<void> {
  const Grouped = taskJob('conformance.grouped', { group: (payload) => payload.label.split('/')[0] ?? '' });
  const settings = { groups: { concurrency: 1 } };
  const producer = await h.queue([Grouped, Task], settings);
  const tracker = new GroupTracker();
  await startWorkers(
    h,
    (label, group) => tracker.run(label, group, label.includes('/') ? label.split('/')[0] : undefined, 3),
    settings,
    [Grouped, Task],
  );
  const groups = ['project-a', 'project-b', 'project-c'];
  const expected = new Map<string, string[]>(groups.map((group) => [group, []]));
  for (let index = 0; index < 10; index++) {
    for (const group of groups) {
      const label = `${group}/${index}`;
      expected.get(group)?.push(label);
      await producer.enqueue(Grouped, { label });
    }
    if (index % 2 === 0) await producer.enqueue(Task, { label: `free-${index}` });
  }
  await h.waitFor(
    () => tracker.finished === 35,
    () => `all 35 jobs to finish (${tracker.finished} did)`,
    h.ms(15_000),
  );
  expect(tracker.wrongGroup, "ctx.group is the group the definition's function gave").toEqual([]);
  expect(
    Object.fromEntries(groups.map((group) => [group, tracker.maxActive.get(group)])),
    'groups.concurrency 1: never two jobs of one group at once, across every worker',
  ).toEqual(Object.fromEntries(groups.map((group) => [group, 1])));
  expect(
    Object.fromEntries(groups.map((group) => [group, tracker.starts.get(group)])),
    'the jobs of a group start in enqueue order',
  ).toEqual(Object.fromEntries(expected));
  expect(
    tracker.maxRunning,
    'jobs of different groups (and ungrouped ones) run alongside',
  ).toBeGreaterThanOrEqual(2);
}

async function concurrencyTwo(h: JobHarness): Promise<void> {
  const settings = { groups: { concurrency: 2 } };
  const producer = await h.queue([Task], settings);
  const tracker = new GroupTracker();
  await startWorkers(
    h,
    (label, group) => tracker.run(label, group, label.startsWith('a') ? 'tenant-a' : 'tenant-b', 10),
    settings,
    [Task],
  );
  for (let index = 0; index < 20; index++) {
    await producer.enqueue(Task, { label: `a${index}` }, { group: 'tenant-a' });
    if (index % 4 === 0) await producer.enqueue(Task, { label: `b${index}` }, { group: 'tenant-b' });
  }
  await h.waitFor(
    () => tracker.finished === 25,
    () => `all 25 jobs to finish (${tracker.finished} did)`,
    h.ms(15_000),
  );
  expect(tracker.wrongGroup, 'ctx.group is the group given at enqueue').toEqual([]);
  expect(
    tracker.maxActive.get('tenant-a'),
    `groups.concurrency 2 across ${WORKERS} workers: at most 2 jobs of a group at once, and the second slot is used`,
  ).toBe(2);
  expect(tracker.maxActive.get('tenant-b') ?? 0, 'the other group within its limit').toBeGreaterThanOrEqual(
    1,
  );
  expect(tracker.maxActive.get('tenant-b') ?? 0, 'the other group within its limit').toBeLessThanOrEqual(2);
}

async function rateLimit(h: JobHarness): Promise<void> {
  const rate = { max: 2, perMs: 300 };
  const JOBS = 6;
  const jobs = await h.queue([Task], { groups: { concurrency: 5, rate } });
  const started: string[] = [];
  jobs.work({ [Task.type]: (_payload, ctx) => void started.push(ctx.jobId) }, { concurrency: 5 });
  await jobs.enqueueMany(
    Array.from({ length: JOBS }, (_, index) => ({
      job: Task,
      payload: { label: `r${index}` },
      options: { group: 'rated' },
    })),
  );
  await h.waitFor(
    () => started.length === JOBS,
    () => `all ${JOBS} jobs to start (${started.length} did)`,
    (JOBS / rate.max) * rate.perMs + h.timeoutMs,
  );
  // When each job was claimed, by the backend's clock: what the rate windows count.
  const starts = (await Promise.all(started.map((id) => h.waitForState(jobs, id, 'completed'))))
    .map((job) => job.startedAt ?? Number.NaN)
    .sort((a, b) => a - b);
  // Fixed windows allow `max` starts at the end of one window and `max` more at the start of the next, so any
  // 2 * max + 1 consecutive starts span more than one window.
  const spans = starts.slice(2 * rate.max).map((at, index) => at - (starts[index] ?? Number.NaN));
  for (const span of spans) {
    expect(
      span,
      `rate ${rate.max} per ${rate.perMs} ms: ${2 * rate.max + 1} consecutive starts of one group span ${span} ms (starts at +${starts.map((at) => at - (starts[0] ?? 0)).join(', +')} ms)`,
    ).toBeGreaterThanOrEqual(rate.perMs - CLOCK_SLACK_MS);
  }
}

async function groupsTakeTurns(h: JobHarness): Promise<void> {
  const jobs = await h.queue([Task], { groups: { concurrency: 1 } });
  await jobs.enqueueMany(
    Array.from({ length: 20 }, (_, index) => ({
      job: Task,
      payload: { label: `busy-${index}` },
      options: { group: 'busy' },
    })),
  );
  await jobs.enqueue(Task, { label: 'quiet-0' }, { group: 'quiet' });
  const started: string[] = [];
  jobs.work({ [Task.type]: ({ label }) => void started.push(label) }, { concurrency: 1 });
  await h.waitFor(
    () => started.length === 21,
    () => `all 21 jobs to start (${started.length} did)`,
  );
  expect(
    started.indexOf('quiet-0'),
    `groups take turns: a group's job does not wait behind another group's backlog (starts: ${started.slice(0, 5).join(', ')}, ...)`,
  ).toBeLessThanOrEqual(1);
}

async function retryFreesSlot(h: JobHarness): Promise<void> {
  const jobs = await h.queue([Task], { groups: { concurrency: 1 } });
  const started: string[] = [];
  jobs.work({
    [Task.type]: ({ label }, ctx) => {
      started.push(`${label}#${ctx.attempt}`);
      if (label === 'first' && ctx.attempt === 1) throw new Error('try again later');
    },
  });
  const first = await jobs.enqueue(
    Task,
    { label: 'first' },
    { group: 'g', attempts: 2, backoff: { initialDelayMs: 300, jitter: 'none' } },
  );
  await jobs.enqueue(Task, { label: 'second' }, { group: 'g' });
  await h.waitForState(jobs, first.id, 'completed', 300 + h.timeoutMs);
  expect(started, 'a job waiting for its retry does not hold its group’s slot').toEqual([
    'first#1',
    'second#1',
    'first#2',
  ]);
}

async function recoveredKeepsItsPlace(h: JobHarness): Promise<void> {
  const backend = await h.backend();
  const jobs = await h.queue([Task], { groups: { concurrency: 1 } });
  const ids: string[] = [];
  for (const label of ['g-0', 'g-1', 'g-2'])
    ids.push((await jobs.enqueue(Task, { label }, { group: 'g' })).id);
  const [claimed] = await h.claimAsCrashedWorker(backend, 200);
  expect(claimed?.id, "the crashed worker claimed the group's first job").toBe(ids[0]);
  const started: string[] = [];
  jobs.work({ [Task.type]: ({ label }) => void started.push(label) });
  await h.waitFor(
    () => started.length === 3,
    () => `the group's 3 jobs to run (${started.join(', ')})`,
  );
  expect(started, 'a job recovered after a crash runs before the rest of its group').toEqual([
    'g-0',
    'g-1',
    'g-2',
  ]);
}

/** Scenario 8: per-group concurrency (1 = FIFO per group) and rate limits hold across every worker. */
export const groupsScenario: JobScenario = {
  name: 'groups',
  tests: [
    {
      title: `groups.concurrency 1: across ${WORKERS} workers, jobs of one group never overlap and start in enqueue order`,
      run: fifoPerGroup,
    },
    {
      title: `groups.concurrency 2: never more than 2 jobs of a group at once across ${WORKERS} workers`,
      run: concurrencyTwo,
    },
    {
      title: 'groups.rate: a group never starts more than rate.max jobs per rate.perMs window',
      run: rateLimit,
    },
    {
      title: "groups take turns: one group's backlog does not hold back another group",
      run: groupsTakeTurns,
    },
    { title: "a job waiting for a retry does not hold its group's slot", run: retryFreesSlot },
    {
      title: 'a job recovered after its worker crashed keeps its place at the head of its group',
      run: recoveredKeepsItsPlace,
    },
  ],
};

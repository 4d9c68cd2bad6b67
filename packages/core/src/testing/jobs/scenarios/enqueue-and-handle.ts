import type { JobContext } from '../../../jobs/types';
import { expect } from '../../expect';
import { sleep } from '../../wait-for';
import { expectEachJobOnce, summarize } from '../assertions';
import { Sum, Task } from '../catalog';
import type { JobHarness } from '../harness';
import type { JobScenario } from '../scenario';

async function typedPayloadAndResult(h: JobHarness): Promise<void> {
  const jobs = await h.queue([Sum, Task]);
  const seen: Array<{ payload: unknown; ctx: JobContext; abortedWhileRunning: boolean }> = [];
  jobs.work({
    [Sum.type]: async (payload, ctx) => {
      await ctx.progress({ step: 'added' });
      seen.push({ payload, ctx, abortedWhileRunning: ctx.signal.aborted });
      return { sum: payload.a + payload.b, note: payload.meta.note };
    },
  });
  const payload = { a: 2, b: 3, meta: { note: 'ünïcødé ✓' } };
  const before = Date.now();
  const enqueued = await jobs.enqueue(Sum, payload);
  expect(enqueued.status, 'enqueue() of a new job').toBe('enqueued');
  expect(typeof enqueued.id === 'string' && enqueued.id.length > 0, 'enqueue() returns the job id').toBe(
    true,
  );

  const job = await h.waitForState(jobs, enqueued.id, 'completed');
  await h.quiet();
  expect(seen.length, `the handler ran exactly once (job is ${summarize(job)})`).toBe(1);
  const [run] = seen;
  expect(run?.payload, 'the handler receives the payload as enqueued').toStrictEqual(payload);
  expect(
    {
      jobId: run?.ctx.jobId,
      type: run?.ctx.type,
      queue: run?.ctx.queue,
      attempt: run?.ctx.attempt,
      maxAttempts: run?.ctx.maxAttempts,
      group: run?.ctx.group,
      aborted: run?.abortedWhileRunning,
    },
    'the handler context',
  ).toStrictEqual({
    jobId: enqueued.id,
    type: Sum.type,
    queue: jobs.name,
    attempt: 1,
    maxAttempts: 5,
    group: undefined,
    aborted: false,
  });
  expect(run?.ctx.enqueuedAt, 'ctx.enqueuedAt is when enqueue() ran').toBeGreaterThanOrEqual(before - 1_000);
  expect(
    {
      state: job.state,
      type: job.type,
      queue: job.queue,
      payload: job.payload,
      result: job.result,
      progress: job.progress,
      failures: job.failures,
      crashes: job.crashes,
      errors: job.errors,
    },
    'the completed job keeps the return value as its result',
  ).toStrictEqual({
    state: 'completed',
    type: Sum.type,
    queue: jobs.name,
    payload,
    result: { sum: 5, note: payload.meta.note },
    progress: { step: 'added' },
    failures: 0,
    crashes: 0,
    errors: [],
  });
  expect(job.finishedAt, 'finishedAt of a completed job').toBeGreaterThanOrEqual(job.startedAt ?? Number.NaN);
  expect(job.lease, 'a completed job holds no lease').toBeUndefined();
}

async function enqueueManyInOrder(h: JobHarness): Promise<void> {
  const jobs = await h.queue([Task, Sum]);
  const items = Array.from({ length: 20 }, (_, index) =>
    index % 5 === 4
      ? { job: Sum, payload: { a: index, b: 1, meta: { note: `n${index}` } } }
      : { job: Task, payload: { label: `t${index}` } },
  );
  const results = await jobs.enqueueMany(items);
  expect(
    results.map((result) => result.status),
    'enqueueMany() returns one result per item',
  ).toEqual(items.map(() => 'enqueued'));
  expect(new Set(results.map((result) => result.id)).size, 'every job gets its own id').toBe(items.length);
  const stored = await Promise.all(results.map((result) => jobs.get(result.id)));
  expect(
    stored.map((job) => ({ type: job?.type, payload: job?.payload })),
    "each result's id is the job of the item at that index",
  ).toStrictEqual(items.map((item) => ({ type: item.job.type, payload: item.payload })));

  const order: string[] = [];
  jobs.work(
    {
      [Task.type]: (_payload, ctx) => void order.push(ctx.jobId),
      [Sum.type]: (_payload, ctx) => void order.push(ctx.jobId),
    },
    { concurrency: 1 },
  );
  const ids = results.map((result) => result.id);
  await h.waitFor(
    () => order.length >= ids.length,
    () => `all ${ids.length} jobs to run (${order.length} ran)`,
  );
  await h.quiet();
  expect(order, 'a worker of concurrency 1 runs a batch oldest first, in the order of the items').toEqual(
    ids,
  );
}

async function competingWorkers(h: JobHarness, separateBackends: boolean): Promise<void> {
  const WORKERS = 4;
  const CONCURRENCY = 5;
  const JOBS = 200;
  const producer = await h.queue([Task]);
  const handled: string[] = [];
  const perWorker = Array.from({ length: WORKERS }, () => 0);
  const active = Array.from({ length: WORKERS }, () => 0);
  const overLimit: string[] = [];
  for (let worker = 0; worker < WORKERS; worker++) {
    // Each worker runs on a queue object of its own, as in another process.
    const jobs = separateBackends ? await h.peerQueue([Task]) : await h.queue([Task]);
    jobs.work(
      {
        [Task.type]: async (_payload, ctx) => {
          active[worker] = (active[worker] ?? 0) + 1;
          if ((active[worker] ?? 0) > CONCURRENCY)
            overLimit.push(`worker ${worker}: ${active[worker]} at once`);
          // Yield so that jobs overlap and the concurrency limit is exercised.
          await sleep(1);
          handled.push(ctx.jobId);
          perWorker[worker] = (perWorker[worker] ?? 0) + 1;
          active[worker] = (active[worker] ?? 0) - 1;
        },
      },
      { concurrency: CONCURRENCY },
    );
  }
  const ids: string[] = [];
  for (let start = 0; start < JOBS; start += 20) {
    const batch = Array.from({ length: 20 }, (_, index) => ({
      job: Task,
      payload: { label: `j${start + index}` },
    }));
    ids.push(...(await producer.enqueueMany(batch)).map((result) => result.id));
  }
  await h.waitFor(
    () => new Set(handled).size >= JOBS,
    () => `all ${JOBS} jobs to be handled (${new Set(handled).size} were)`,
    h.ms(15_000),
  );
  await h.quiet();
  expectEachJobOnce(handled, ids, `${WORKERS} workers of one queue`);
  expect(overLimit, `no worker runs more than its concurrency of ${CONCURRENCY}`).toEqual([]);
  expect(
    perWorker.filter((count) => count === 0).length,
    `every worker takes a share (handled per worker: ${perWorker.join(', ')})`,
  ).toBe(0);
  const { counts } = await producer.inspect();
  expect(counts.completed, 'every job is completed').toBe(JOBS);
}

async function retention(h: JobHarness): Promise<void> {
  const RETAIN_MS = 200;
  const dropped = await h.queue([Task], { retainCompletedMs: 0 });
  const kept = await h.queue([Task], { retainCompletedMs: RETAIN_MS });
  const results: string[] = [];
  dropped.work({ [Task.type]: ({ label }) => void results.push(label) });
  const once = await dropped.enqueue(Task, { label: 'not retained' });
  await h.waitFor(() => results.length === 1, 'the job to run');
  await h.waitForJob(
    dropped,
    once.id,
    (job) => job === undefined,
    'a job completed with retainCompletedMs 0 to be removed',
  );
  expect((await dropped.inspect()).counts.completed, 'nothing is retained with retainCompletedMs 0').toBe(0);

  await dropped.close();
  kept.work({ [Task.type]: ({ label }) => `result of ${label}` });
  const retained = await kept.enqueue(Task, { label: 'retained' });
  const job = await h.waitForState(kept, retained.id, 'completed');
  expect(job.result, 'a retained job keeps its result').toBe('result of retained');
  await h.waitForJob(
    kept,
    retained.id,
    (current) => current === undefined,
    `the completed job to be removed after retainCompletedMs ${RETAIN_MS}`,
    RETAIN_MS + h.timeoutMs,
  );
}

/** Scenario 1: jobs are handled once, with their typed payload; results are kept; batches keep their order. */
export const enqueueAndHandleScenario: JobScenario = {
  name: 'enqueue-and-handle',
  tests: [
    {
      title:
        'a job is handled once with its payload and context; the return value and progress are kept on the completed job',
      run: typedPayloadAndResult,
    },
    {
      title:
        'a completed job is kept with its result for retainCompletedMs, then removed; with 0 it is removed at once',
      run: retention,
    },
    {
      title:
        'enqueueMany() returns one result per item in order, and a worker of concurrency 1 runs them in that order',
      run: enqueueManyInOrder,
    },
    {
      title: '4 workers of concurrency 5 handle each of 200 jobs exactly once, none over its concurrency',
      run: (h) => competingWorkers(h, false),
    },
    {
      title: '4 workers on 4 backend instances handle each of 200 jobs exactly once',
      requires: ['sharedBackend'],
      run: (h) => competingWorkers(h, true),
    },
  ],
};

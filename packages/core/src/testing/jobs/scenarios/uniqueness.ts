import { expect } from '../../expect';
import { sleep } from '../../wait-for';
import { CLOCK_SLACK_MS, deferred } from '../assertions';
import { Task } from '../catalog';
import type { JobHarness } from '../harness';
import type { JobScenario } from '../scenario';

const HELD = { ttlMs: 60_000 } as const;

async function dedupe(h: JobHarness): Promise<void> {
  const jobs = await h.queue([Task]);
  const first = await jobs.enqueue(Task, { label: 'same' }, { unique: HELD });
  const second = await jobs.enqueue(Task, { label: 'same' }, { unique: HELD });
  expect(second, 'a second enqueue of the same type and payload while the key is held').toEqual({
    id: first.id,
    status: 'deduplicated',
  });
  const other = await jobs.enqueue(Task, { label: 'other' }, { unique: HELD });
  expect(other.status, 'another payload is another key').toBe('enqueued');
  const keyed = await jobs.enqueue(Task, { label: 'k1' }, { unique: { ...HELD, key: 'tenant-7' } });
  const sameKey = await jobs.enqueue(Task, { label: 'k2' }, { unique: { ...HELD, key: 'tenant-7' } });
  expect(sameKey, 'an explicit key deduplicates whatever the payload').toEqual({
    id: keyed.id,
    status: 'deduplicated',
  });
  expect(await h.totalJobs(jobs), 'deduplicated enqueues add nothing').toBe(3);

  const labels: string[] = [];
  jobs.work({ [Task.type]: ({ label }) => void labels.push(label) });
  await h.waitForState(jobs, first.id, 'completed');
  await h.waitForState(jobs, keyed.id, 'completed');
  const again = await jobs.enqueue(Task, { label: 'same' }, { unique: HELD });
  expect(again.status, 'once its holder completed, the key is free').toBe('enqueued');
  await h.waitForState(jobs, again.id, 'completed');
  await h.quiet();
  expect(labels.sort(), 'each enqueued job ran once, deduplicated ones never').toEqual([
    'k1',
    'other',
    'same',
    'same',
  ]);
}

async function keyReleased(h: JobHarness): Promise<void> {
  const TTL_MS = 200;
  const jobs = await h.queue([Task]);
  const expiring = await jobs.enqueue(Task, { label: 'ttl' }, { unique: { ttlMs: TTL_MS } });
  await h.waitFor(
    async () =>
      (await jobs.enqueue(Task, { label: 'ttl' }, { unique: { ttlMs: TTL_MS } })).status === 'enqueued',
    `the key of ${expiring.id} to be released after its ttlMs of ${TTL_MS}`,
    TTL_MS + h.timeoutMs,
  );

  jobs.work({
    [Task.type]: ({ label }) => {
      if (label === 'fails') throw new Error('no');
    },
  });
  const dies = await jobs.enqueue(Task, { label: 'fails' }, { unique: HELD, attempts: 1 });
  await h.waitForState(jobs, dies.id, 'dead');
  const afterDeath = await jobs.enqueue(Task, { label: 'fails' }, { unique: HELD, attempts: 1 });
  expect(afterDeath.status, 'the key of a job that died is free').toBe('enqueued');

  const scheduled = await jobs.enqueue(Task, { label: 'cancelled' }, { unique: HELD, delayMs: 60_000 });
  expect(await jobs.cancel(scheduled.id), 'cancel() of a scheduled job').toBe('cancelled');
  const afterCancel = await jobs.enqueue(Task, { label: 'cancelled' }, { unique: HELD, delayMs: 60_000 });
  expect(afterCancel.status, 'the key of a cancelled job is free').toBe('enqueued');
}

async function debounceBurst(h: JobHarness): Promise<void> {
  const DELAY_MS = 200;
  const jobs = await h.queue([Task]);
  const runs: Array<{ label: string; at: number }> = [];
  jobs.work({ [Task.type]: ({ label }) => void runs.push({ label, at: Date.now() }) });
  const unique = { ttlMs: 60_000, key: 'recalc:p1', mode: 'debounce' } as const;
  const results = [];
  let lastEnqueueAt = 0;
  for (let index = 1; index <= 5; index++) {
    lastEnqueueAt = Date.now();
    results.push(await jobs.enqueue(Task, { label: `v${index}` }, { delayMs: DELAY_MS, unique }));
    // Unscaled: the gaps of the burst must stay well inside delayMs.
    await sleep(20);
  }
  const [first, ...rest] = results;
  expect(first?.status, 'the first enqueue of a burst').toBe('enqueued');
  expect(rest, 'every later enqueue of the burst is debounced onto the first job').toEqual(
    rest.map(() => ({ id: first?.id, status: 'debounced' })),
  );
  await h.waitFor(() => runs.length >= 1, 'the debounced job to run', DELAY_MS + h.timeoutMs);
  await h.quiet(DELAY_MS);
  expect(
    runs.map((run) => run.label),
    'the burst runs once, with the last payload',
  ).toEqual(['v5']);
  const waitedMs = (runs[0]?.at ?? Number.NaN) - lastEnqueueAt;
  expect(
    waitedMs,
    `the job started ${waitedMs} ms after the last enqueue of the burst; not before its delayMs of ${DELAY_MS}`,
  ).toBeGreaterThanOrEqual(DELAY_MS - CLOCK_SLACK_MS);
}

async function debounceWhileActive(h: JobHarness): Promise<void> {
  const jobs = await h.queue([Task]);
  const gate = deferred();
  const labels: string[] = [];
  jobs.work({
    [Task.type]: async ({ label }) => {
      labels.push(label);
      if (label === 'v1') await gate.promise;
    },
  });
  const unique = { ttlMs: 60_000, key: 'recalc:p2', mode: 'debounce' } as const;
  const holder = await jobs.enqueue(Task, { label: 'v1' }, { unique });
  await h.waitForState(jobs, holder.id, 'active');
  const next = await jobs.enqueue(Task, { label: 'v2' }, { unique, delayMs: 60_000 });
  expect(next.status, 'an enqueue while the holder is active adds a new job').toBe('enqueued');
  expect(next.id === holder.id, 'the new job has its own id').toBe(false);
  const replaced = await jobs.enqueue(Task, { label: 'v3' }, { unique });
  expect(replaced, 'the new job took the key: a further enqueue debounces onto it').toEqual({
    id: next.id,
    status: 'debounced',
  });
  gate.resolve();
  await h.waitForState(jobs, holder.id, 'completed');
  await h.waitForState(jobs, next.id, 'completed');
  await h.quiet();
  expect(labels, 'the active job finished, and the new one ran with the last payload and run time').toEqual([
    'v1',
    'v3',
  ]);
}

async function debounceOntoRetry(h: JobHarness): Promise<void> {
  const jobs = await h.queue([Task]);
  const runs: Array<{ label: string; attempt: number }> = [];
  jobs.work({
    [Task.type]: ({ label }, ctx) => {
      runs.push({ label, attempt: ctx.attempt });
      if (label === 'v1') throw new Error('v1 fails');
    },
  });
  const unique = { ttlMs: 60_000, key: 'recalc:p3', mode: 'debounce' } as const;
  const holder = await jobs.enqueue(
    Task,
    { label: 'v1' },
    { unique, attempts: 3, backoff: { initialDelayMs: 60_000, maxDelayMs: 60_000, jitter: 'none' } },
  );
  await h.waitForState(jobs, holder.id, 'retry');
  const replaced = await jobs.enqueue(Task, { label: 'v2' }, { unique });
  expect(replaced, 'an enqueue while the holder waits for a retry').toEqual({
    id: holder.id,
    status: 'debounced',
  });
  const job = await h.waitForState(jobs, holder.id, ['completed', 'dead']);
  expect(
    { state: job.state, payload: job.payload, runs },
    'the waiting job took the new payload and run time, and ran with them',
  ).toEqual({
    state: 'completed',
    payload: { label: 'v2' },
    runs: [
      { label: 'v1', attempt: 1 },
      { label: 'v2', attempt: 2 },
    ],
  });
}

/** Scenario 6: unique keys deduplicate for their TTL, or debounce a burst into one run with the last payload. */
export const uniquenessScenario: JobScenario = {
  name: 'uniqueness',
  tests: [
    {
      title:
        'dedupe: a second enqueue with a held key returns deduplicated with the first id; after completion the key is free',
      run: dedupe,
    },
    {
      title: 'a unique key is released after its ttlMs, when its job dies, and when it is cancelled',
      run: keyReleased,
    },
    {
      title:
        'debounce: a burst of enqueues runs once, with the last payload, no earlier than delayMs after the last',
      run: debounceBurst,
    },
    {
      title: 'debounce: an enqueue while the holder is active adds a new job, which takes the key',
      run: debounceWhileActive,
    },
    {
      title: 'debounce: an enqueue while the holder waits for a retry replaces its payload and run time',
      run: debounceOntoRetry,
    },
  ],
};

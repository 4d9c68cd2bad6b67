import type { JobPriority } from '../../../jobs/backend';
import type { EnqueueOptions } from '../../../jobs/types';
import { expect } from '../../expect';
import {
  attemptErrors,
  expectError,
  expectOption,
  expectRejectionShape,
  summarize,
  thrownBy,
} from '../assertions';
import { newJob, Sum, type SumPayload, Task, taskJob } from '../catalog';
import type { JobHarness } from '../harness';
import type { JobScenario } from '../scenario';

async function invalidPayload(h: JobHarness): Promise<void> {
  const jobs = await h.queue([Sum, Task]);
  const bad = { a: 1, b: 2, meta: { note: 42 } } as unknown as SumPayload;
  const error = await expectRejectionShape(
    () => jobs.enqueue(Sum, bad),
    { name: 'ValidationError', code: 'VALIDATION_FAILED', eventType: Sum.type },
    'enqueue() of a payload whose meta.note is a number',
  );
  const issues = (Reflect.get(error, 'issues') ?? []) as ReadonlyArray<{ path: ReadonlyArray<unknown> }>;
  expect(
    issues.map((issue) =>
      issue.path.map((segment) =>
        typeof segment === 'object' ? Reflect.get(segment ?? {}, 'key') : segment,
      ),
    ),
    'the error lists the issue with its path',
  ).toEqual([['meta', 'note']]);
  expect(error.message, 'the message names the job type and the field').toMatch(
    /conformance\.sum[\s\S]*meta\.note/,
  );

  await expectRejectionShape(
    () =>
      jobs.enqueueMany([
        { job: Task, payload: { label: 'valid' } },
        { job: Sum, payload: bad },
      ]),
    { name: 'ValidationError', code: 'VALIDATION_FAILED' },
    'enqueueMany() with one invalid item',
  );
  expect(await h.totalJobs(jobs), 'a refused enqueue or batch adds nothing, not even its valid items').toBe(
    0,
  );
}

async function unknownJob(h: JobHarness): Promise<void> {
  const jobs = await h.queue([Task]);
  const Unlisted = taskJob('conformance.unlisted');
  await expectRejectionShape(
    () => jobs.enqueue(Unlisted as unknown as typeof Task, { label: 'x' }),
    { name: 'UnknownJobError', code: 'UNKNOWN_JOB', jobType: Unlisted.type },
    'enqueue() of a job type outside the catalog',
  );
  expect(await h.totalJobs(jobs), 'nothing was added').toBe(0);
}

const INVALID_OPTIONS: ReadonlyArray<readonly [EnqueueOptions, RegExp]> = [
  [{ delayMs: 100, runAt: Date.now() + 100 }, /delayMs|runAt/],
  [{ attempts: 0 }, /attempts/],
  [{ attempts: 2.5 }, /attempts/],
  [{ priority: 'urgent' as JobPriority }, /priority/],
  [{ delayMs: -1 }, /delayMs/],
  [{ runAt: new Date(Number.NaN) }, /runAt/],
  [{ timeoutMs: 0 }, /timeoutMs/],
  [{ unique: { ttlMs: 0 } }, /ttlMs/],
];

async function invalidOptions(h: JobHarness): Promise<void> {
  const jobs = await h.queue([Task]);
  for (const [options, option] of INVALID_OPTIONS) {
    const what = `enqueue(Task, payload, ${JSON.stringify(options)})`;
    const error = await expectRejectionShape(
      () => jobs.enqueue(Task, { label: 'x' }, options),
      { name: 'InvalidOptionError', code: 'INVALID_OPTION' },
      what,
    );
    expectOption(error, option, what);
    expect(error.message, `${what}: the message names the job type`).toMatch(/conformance\.task/);
  }
  expect(await h.totalJobs(jobs), 'no refused enqueue added a job').toBe(0);
  const error = thrownBy(
    () => jobs.work({ [Task.type]: () => {} }, { concurrency: 0 }),
    'work({ concurrency: 0 })',
  );
  expectError(error, { name: 'InvalidOptionError', code: 'INVALID_OPTION' }, 'work({ concurrency: 0 })');
  expectOption(error, /concurrency/, 'work({ concurrency: 0 })');
}

async function oversizePayload(h: JobHarness): Promise<void> {
  const maxPayloadBytes = 1_024;
  const jobs = await h.queue([Task], { maxPayloadBytes });
  const error = await expectRejectionShape(
    () => jobs.enqueue(Task, { label: 'x'.repeat(2_000) }),
    { name: 'PayloadTooLargeError', code: 'PAYLOAD_TOO_LARGE', maxBytes: maxPayloadBytes },
    `enqueue() of a 2 kB payload with maxPayloadBytes ${maxPayloadBytes}`,
  );
  expect(Reflect.get(error, 'sizeBytes'), 'the error gives the payload size').toBeGreaterThanOrEqual(2_000);
  await expectRejectionShape(
    () =>
      jobs.enqueueMany([
        { job: Task, payload: { label: 'small' } },
        { job: Task, payload: { label: 'x'.repeat(2_000) } },
      ]),
    { name: 'PayloadTooLargeError', code: 'PAYLOAD_TOO_LARGE' },
    'enqueueMany() with one oversize item',
  );
  expect(await h.totalJobs(jobs), 'a refused payload adds nothing').toBe(0);
  const fits = await jobs.enqueue(Task, { label: 'x'.repeat(500) });
  expect(fits.status, 'a payload under the limit is accepted').toBe('enqueued');
}

async function duplicateJobId(h: JobHarness): Promise<void> {
  const jobs = await h.queue([Task]);
  const jobId = 'order-1';
  const first = await jobs.enqueue(Task, { label: 'first' }, { jobId });
  expect(first, 'the first enqueue with a jobId').toEqual({ id: jobId, status: 'enqueued' });
  const duplicate = { name: 'DuplicateJobError', code: 'DUPLICATE_JOB', jobId, queue: jobs.name } as const;
  await expectRejectionShape(
    () => jobs.enqueue(Task, { label: 'second' }, { jobId }),
    duplicate,
    'a second enqueue with the jobId of a pending job',
  );
  expect((await jobs.get(jobId))?.payload, 'the pending job keeps its payload').toEqual({ label: 'first' });

  const labels: string[] = [];
  jobs.work({ [Task.type]: ({ label }) => void labels.push(label) });
  await h.waitForState(jobs, jobId, 'completed');
  await expectRejectionShape(
    () => jobs.enqueue(Task, { label: 'third' }, { jobId }),
    duplicate,
    'an enqueue with the jobId of a completed job that is still retained',
  );
  await h.quiet();
  expect(labels, 'only the first job ran').toEqual(['first']);

  expect(await jobs.purgeCompleted([jobId]), 'purgeCompleted([id]) of the completed job').toBe(1);
  expect((await jobs.enqueue(Task, { label: 'again' }, { jobId })).status, 'the id is free once purged').toBe(
    'enqueued',
  );
  await h.waitFor(
    () => labels.length === 2,
    () => `the job enqueued again to run (ran: ${labels.join(', ')})`,
  );
  expect(labels, 'the job enqueued again after the purge ran').toEqual(['first', 'again']);
}

async function undecodableStoredJob(h: JobHarness): Promise<void> {
  const backend = await h.backend();
  const jobs = await h.queue([Task, Sum]);
  const bad = newJob({ type: Task.type, payload: { label: 42 } });
  const [added] = await backend.add(jobs.name, [bad]);
  expect(added, 'backend.add() of a job whose stored payload is invalid').toEqual({
    status: 'added',
    id: bad.id,
  });
  const orphan = await jobs.enqueue(Sum, { a: 1, b: 1, meta: { note: 'no handler' } });
  const good = await jobs.enqueue(Task, { label: 'good' });

  const labels: unknown[] = [];
  const worker = jobs.work({ [Task.type]: ({ label }) => void labels.push(label) }, { concurrency: 1 });
  const dead = await h.waitForState(jobs, bad.id, ['dead', 'completed']);
  expect(
    { state: dead.state, deadReason: dead.deadReason, kinds: dead.errors.map((entry) => entry.kind) },
    `a job whose payload fails validation before its handler runs is dead at once (${summarize(dead)})`,
  ).toEqual({ state: 'dead', deadReason: 'NON_RETRYABLE', kinds: ['error'] });
  expect(dead.errors[0]?.error.code, 'its error is the validation failure').toBe('VALIDATION_FAILED');
  const noHandler = await h.waitForState(jobs, orphan.id, ['dead', 'completed']);
  expect(
    { state: noHandler.state, deadReason: noHandler.deadReason },
    `a job of a type the worker has no handler for is dead (${summarize(noHandler)})`,
  ).toEqual({ state: 'dead', deadReason: 'NO_HANDLER' });

  await h.waitForState(jobs, good.id, 'completed');
  const later = await jobs.enqueue(Task, { label: 'later' });
  await h.waitForState(jobs, later.id, 'completed');
  expect(worker.state, 'the worker keeps running').toBe('running');
  expect(labels, 'the handler never saw the invalid payload').toEqual(['good', 'later']);
}

async function nonErrorThrown(h: JobHarness): Promise<void> {
  const jobs = await h.queue([Task]);
  jobs.work({
    [Task.type]: ({ label }) => {
      throw label === 'string' ? 'plain failure' : { detail: 'an object' };
    },
  });
  const thrownString = await jobs.enqueue(Task, { label: 'string' }, { attempts: 1 });
  const thrownObject = await jobs.enqueue(Task, { label: 'object' }, { attempts: 1 });
  for (const [id, shown] of [
    [thrownString.id, /plain failure/],
    [thrownObject.id, /an object/],
  ] as const) {
    const job = await h.waitForState(jobs, id, ['dead', 'completed']);
    expect(
      {
        state: job.state,
        deadReason: job.deadReason,
        errors: attemptErrors(job).map(({ attempt, kind }) => ({ attempt, kind })),
      },
      `a job whose handler threw a non-Error (${summarize(job)})`,
    ).toEqual({ state: 'dead', deadReason: 'MAX_ATTEMPTS', errors: [{ attempt: 1, kind: 'error' }] });
    expect(job.errors[0]?.error.message, 'the recorded error shows the thrown value').toMatch(shown);
    expect(job.errors[0]?.error.code, 'a non-Error is recorded as HANDLER_FAILED').toBe('HANDLER_FAILED');
  }
}

async function closedQueue(h: JobHarness): Promise<void> {
  const jobs = await h.queue([Task]);
  await jobs.close();
  await expectRejectionShape(
    () => jobs.enqueue(Task, { label: 'late' }),
    { name: 'ClosedError', code: 'CLOSED' },
    'enqueue() after close()',
  );
  await expectRejectionShape(
    () => jobs.enqueueMany([{ job: Task, payload: { label: 'late' } }]),
    { name: 'ClosedError', code: 'CLOSED' },
    'enqueueMany() after close()',
  );
  await jobs.close();
}

/** Scenario 2: bad input is refused with typed errors at enqueue; bad stored jobs die without stopping the worker. */
export const badInputScenario: JobScenario = {
  name: 'bad-input',
  tests: [
    {
      title: 'an invalid payload is refused with ValidationError naming the field path, and adds nothing',
      run: invalidPayload,
    },
    { title: 'a job type outside the catalog is refused with UnknownJobError', run: unknownJob },
    {
      title:
        'contradictory or out-of-range options (delayMs with runAt, attempts 0, unknown priority, negative delay, unique.ttlMs 0, ...) are refused with InvalidOptionError naming the option',
      run: invalidOptions,
    },
    { title: 'a payload over maxPayloadBytes is refused with PayloadTooLargeError', run: oversizePayload },
    {
      title:
        'a jobId the queue retains (pending, or completed) is refused with DuplicateJobError; once purged it is free',
      run: duplicateJobId,
    },
    {
      title:
        'a stored job whose payload fails validation is dead with NON_RETRYABLE, one with no handler with NO_HANDLER, and the worker keeps running',
      run: undecodableStoredJob,
    },
    {
      title: 'a handler that throws a non-Error has the thrown value recorded as HANDLER_FAILED',
      run: nonErrorThrown,
    },
    { title: 'enqueue() and enqueueMany() after close() reject with ClosedError', run: closedQueue },
  ],
};

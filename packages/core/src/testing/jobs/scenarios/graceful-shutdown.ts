import { expect } from '../../expect';
import { sleep } from '../../wait-for';
import { aborted, CLOCK_SLACK_MS, summarize, track } from '../assertions';
import { Task } from '../catalog';
import type { JobHarness } from '../harness';
import type { JobScenario } from '../scenario';

const CLOSE_TIMEOUT_MS = 300;

async function closeHandsBack(h: JobHarness): Promise<void> {
  const jobs = await h.queue([Task]);
  const started: string[] = [];
  let longAbortedAt: number | undefined;
  const worker = jobs.work(
    {
      [Task.type]: async ({ label }, ctx) => {
        started.push(label);
        if (label === 'short') {
          await sleep(100);
          return 'short done';
        }
        await aborted(ctx.signal);
        longAbortedAt = Date.now();
        throw new Error('stopped: shutting down');
      },
    },
    { concurrency: 3 },
  );
  const short = await jobs.enqueue(Task, { label: 'short' });
  const long = await jobs.enqueue(Task, { label: 'long' });
  await h.waitFor(
    () => started.length === 2,
    () => `both jobs to start (${started.join(', ')})`,
  );

  const closeCalledAt = Date.now();
  const closing = track(worker.close({ timeoutMs: CLOSE_TIMEOUT_MS }));
  expect(worker.state, 'state while closing').toBe('closing');
  const after = await jobs.enqueue(Task, { label: 'after-close' });
  await h.waitFor(
    () => closing.state() !== 'pending',
    'worker.close() to settle',
    CLOSE_TIMEOUT_MS + h.timeoutMs,
  );
  expect(closing.state(), `worker.close() resolves (${String(closing.error())})`).toBe('resolved');
  expect({ state: worker.state, active: worker.active }, 'the worker is closed with nothing running').toEqual(
    {
      state: 'closed',
      active: 0,
    },
  );
  expect(started, 'a closing worker claims nothing new').toEqual(['short', 'long']);

  const shortJob = await jobs.get(short.id);
  expect(
    { state: shortJob?.state, result: shortJob?.result },
    'a job that finished within the close timeout completed normally',
  ).toEqual({ state: 'completed', result: 'short done' });
  const abortedAfterMs = (longAbortedAt ?? Number.NaN) - closeCalledAt;
  expect(
    abortedAfterMs,
    `the signal of the job still running at the deadline was aborted ${abortedAfterMs} ms after close(); not before timeoutMs ${CLOSE_TIMEOUT_MS}`,
  ).toBeGreaterThanOrEqual(CLOSE_TIMEOUT_MS - CLOCK_SLACK_MS);
  const handedBack = await jobs.get(long.id);
  expect(
    {
      state: handedBack?.state,
      failures: handedBack?.failures,
      crashes: handedBack?.crashes,
      errors: handedBack?.errors,
    },
    `the unfinished job is handed back without counting an attempt (${summarize(handedBack)})`,
  ).toEqual({ state: 'pending', failures: 0, crashes: 0, errors: [] });

  const attempts = new Map<string, number>();
  (await h.peerQueue([Task])).work({
    [Task.type]: ({ label }, ctx) => {
      attempts.set(label, ctx.attempt);
      return `${label} done by the next worker`;
    },
  });
  const finished = await h.waitForState(jobs, long.id, ['completed', 'dead']);
  await h.waitForState(jobs, after.id, 'completed');
  expect(
    { state: finished.state, result: finished.result, attempt: attempts.get('long') },
    'another worker completes the handed-back job, as attempt 1',
  ).toEqual({ state: 'completed', result: 'long done by the next worker', attempt: 1 });
}

async function signalAndDispose(h: JobHarness): Promise<void> {
  const jobs = await h.queue([Task]);
  const controller = new AbortController();
  const seen: Array<[string, string]> = [];
  const viaSignal = jobs.work(
    { [Task.type]: ({ label }) => void seen.push(['signal', label]) },
    { signal: controller.signal },
  );
  const viaDispose = jobs.work({ [Task.type]: ({ label }) => void seen.push(['dispose', label]) });
  const twice = jobs.work({ [Task.type]: ({ label }) => void seen.push(['twice', label]) });
  controller.abort();
  await viaDispose[Symbol.asyncDispose]();
  const closes = [twice.close(), twice.close()].map(track);
  await h.waitFor(
    () => closes.every((close) => close.state() !== 'pending'),
    'two concurrent close() calls to settle',
  );
  expect(
    closes.map((close) => close.state()),
    'concurrent close() calls both resolve',
  ).toEqual(['resolved', 'resolved']);
  await h.waitFor(
    () => viaSignal.state === 'closed',
    () => `the worker whose signal aborted to close (${viaSignal.state})`,
  );
  expect([viaDispose.state, twice.state], 'disposed and closed workers').toEqual(['closed', 'closed']);
  const { id } = await jobs.enqueue(Task, { label: 'after' });
  await h.quiet(100);
  expect(seen, 'closed workers take no job').toEqual([]);
  expect((await jobs.get(id))?.state, 'the job waits for a worker').toBe('pending');
}

async function queueCloseClosesWorkers(h: JobHarness): Promise<void> {
  const jobs = await h.queue([Task]);
  const worker = jobs.work({ [Task.type]: () => {} });
  const scheduler = jobs.scheduler();
  await h.within(jobs.close({ timeoutMs: h.ms(500) }), 'queue.close()');
  expect(worker.state, 'queue.close() closes the workers it started').toBe('closed');
  const producer = await h.queue([Task]);
  const { id } = await producer.enqueue(Task, { label: 'after' });
  await h.quiet(100);
  expect((await producer.get(id))?.state, 'nothing runs it after queue.close()').toBe('pending');
  await scheduler.close();
}

/** Scenario 10: closing a worker lets short jobs finish and hands back the rest without counting an attempt. */
export const gracefulShutdownScenario: JobScenario = {
  name: 'graceful-shutdown',
  tests: [
    {
      title: `close({ timeoutMs: ${CLOSE_TIMEOUT_MS} }) stops claiming, lets a short job finish, aborts the one still running and hands it back uncounted; another worker completes it`,
      run: closeHandsBack,
    },
    {
      title:
        'aborting WorkOptions.signal, disposing the worker or closing it twice closes it; it takes no job after',
      run: signalAndDispose,
    },
    { title: 'queue.close() closes the workers and schedulers it started', run: queueCloseClosesWorkers },
  ],
};

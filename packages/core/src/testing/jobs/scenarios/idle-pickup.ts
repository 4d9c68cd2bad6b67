import type { JobBackend } from '../../../jobs/backend';
import { expect } from '../../expect';
import { Task } from '../catalog';
import type { JobHarness } from '../harness';
import type { JobScenario } from '../scenario';

/** One call of `backend.wait`, as a worker made it. */
interface WaitCall {
  readonly timeoutMs: number;
  readonly calledAt: number;
  resolvedAt?: number;
}

/** The backend, with every `wait` call recorded; everything else passes through. */
function recordWaits(backend: JobBackend): { backend: JobBackend; waits: WaitCall[] } {
  const waits: WaitCall[] = [];
  const recorded = new Proxy(backend, {
    get(target, property) {
      if (property === 'wait') {
        return async (queue: string, timeoutMs: number, signal?: AbortSignal): Promise<void> => {
          const call: WaitCall = { timeoutMs, calledAt: Date.now() };
          waits.push(call);
          try {
            await target.wait(queue, timeoutMs, signal);
          } finally {
            call.resolvedAt = Date.now();
          }
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { backend: recorded, waits };
}

const PICKUPS = 3;
/** An idle worker must block in `wait` for at least this long (scaled), or the test could not tell it from polling. */
const MIN_WAIT_MS = 400;

async function idlePickup(h: JobHarness, fromAnotherInstance: boolean): Promise<void> {
  const { backend, waits } = recordWaits(await h.backend());
  const jobs = await h.queue([Task], { backend });
  const producer = fromAnotherInstance ? await h.peerQueue([Task]) : jobs;
  const started = new Map<string, number>();
  jobs.work({ [Task.type]: ({ label }) => void started.set(label, Date.now()) }, { concurrency: 1 });

  for (let pickup = 0; pickup < PICKUPS; pickup++) {
    // Idle: the worker has been blocked in wait() for a while with nothing to do.
    let blocked: WaitCall | undefined;
    await h.waitFor(
      () => {
        blocked = waits.find(
          (call) => call.resolvedAt === undefined && Date.now() - call.calledAt >= h.ms(50),
        );
        return blocked !== undefined;
      },
      () =>
        `the idle worker to block in backend.wait() (${waits.length} wait calls so far, none pending for 50 ms)`,
    );
    const call = blocked as WaitCall;
    expect(
      call.timeoutMs,
      `an idle worker blocks in wait() for ${call.timeoutMs} ms; at least ${h.ms(MIN_WAIT_MS)} ms, so it is not polling`,
    ).toBeGreaterThanOrEqual(h.ms(MIN_WAIT_MS));
    const label = `job-${pickup}`;
    const enqueuedAt = Date.now();
    await producer.enqueue(Task, { label });
    const boundMs = Math.floor(call.timeoutMs / 4);
    await h.waitFor(
      () => started.has(label),
      `the idle worker to start ${label} within a quarter of its wait timeout (${boundMs} of ${call.timeoutMs} ms)`,
      boundMs,
    );
    const wokeAfterMs = (call.resolvedAt ?? Number.NaN) - call.calledAt;
    expect(
      wokeAfterMs,
      `the pending wait() resolved before its timeout of ${call.timeoutMs} ms: the enqueue woke it`,
    ).toBeLessThanOrEqual(call.timeoutMs - 1);
    expect(call.resolvedAt, 'the wait resolved when the job was enqueued, not before').toBeGreaterThanOrEqual(
      enqueuedAt - 1,
    );
  }
}

/** Scenario 14: an idle worker is woken by an enqueue instead of finding the job at its next poll. */
export const idlePickupScenario: JobScenario = {
  name: 'idle-pickup',
  tests: [
    {
      title: `an idle worker blocked in backend.wait() is woken by an enqueue and starts the job well before its wait timeout (${PICKUPS} times)`,
      run: (h) => idlePickup(h, false),
    },
    {
      title: 'an idle worker is woken by a job enqueued through another backend instance',
      requires: ['sharedBackend'],
      run: (h) => idlePickup(h, true),
    },
  ],
};

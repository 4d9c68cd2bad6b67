import { InvalidOptionError } from '../../errors';
import type { JobBackend } from '../../jobs/backend';
import { afterEach, beforeEach, describe, it } from '../runner';
import { newJob } from './catalog';
import { JobHarness } from './harness';
import type { JobBackendFactory, JobQueueConformanceOptions } from './options';
import type { JobRequirement, JobScenario } from './scenario';
import { badInputScenario } from './scenarios/bad-input';
import { crashesAndLeasesScenario } from './scenarios/crashes-and-leases';
import { deadJobsScenario } from './scenarios/dead-jobs';
import { delaysScenario } from './scenarios/delays';
import { enqueueAndHandleScenario } from './scenarios/enqueue-and-handle';
import { gracefulShutdownScenario } from './scenarios/graceful-shutdown';
import { groupsScenario } from './scenarios/groups';
import { idlePickupScenario } from './scenarios/idle-pickup';
import { inspectionAndControlScenario } from './scenarios/inspection-and-control';
import { periodicJobsScenario } from './scenarios/periodic-jobs';
import { prioritiesScenario } from './scenarios/priorities';
import { retriesScenario } from './scenarios/retries';
import { timeoutsScenario } from './scenarios/timeouts';
import { uniquenessScenario } from './scenarios/uniqueness';

const SCENARIOS: ReadonlyArray<JobScenario> = [
  enqueueAndHandleScenario,
  badInputScenario,
  delaysScenario,
  retriesScenario,
  timeoutsScenario,
  uniquenessScenario,
  prioritiesScenario,
  groupsScenario,
  crashesAndLeasesScenario,
  gracefulShutdownScenario,
  inspectionAndControlScenario,
  deadJobsScenario,
  periodicJobsScenario,
  idlePickupScenario,
];

const BASE_TEST_TIMEOUT_MS = 30_000;
const WHERE = 'describeJobQueueConformance';

/**
 * Registers the job queue conformance suite with the test runner: a `describe` block per scenario, checking through
 * the public queue API (`createJobQueue` over the backend under test) and, where a test plays a crashed worker,
 * through `JobBackend` directly, that jobs run once with their typed payload and keep their result; bad input is
 * refused with typed errors; delays, retries with backoff, timeouts, unique keys (dedupe and debounce), strict and
 * weighted priorities, per-group concurrency, FIFO and rate limits behave as documented; a crashed worker's job
 * comes back after its lease as the same attempt and stale tokens change nothing; shutdown hands unfinished jobs
 * back; inspection, cancel, pause and the dead list work; periodic schedules enqueue each tick exactly once with
 * several schedulers, across DST changes and random restarts; and an idle worker is woken by an enqueue.
 *
 * Call it at the top level of a test file. Every test gets its own namespace and queue name and fresh backends from
 * `factory`; it closes every queue, worker, scheduler and backend it made. Errors are recognised by `name` and
 * `code`, so a backend built against another copy of `@relaybus/core` passes too.
 *
 * @param name - Shown in the suite title, such as `memory` or `redis`.
 * @param factory - Makes a backend for a namespace; see {@link JobBackendFactory} for the sharing rules.
 * @param options - Wait scaling, backend sharing, the random seed and skips.
 * @throws `InvalidOptionError` when an option is out of range or names an unknown scenario.
 * @example
 * ```ts
 * import { memoryJobBackend } from '@relaybus/core';
 * import { describeJobQueueConformance } from '@relaybus/core/testing';
 *
 * describeJobQueueConformance('memory', () => memoryJobBackend());
 * ```
 * @example
 * ```ts
 * describeJobQueueConformance(
 *   'redis',
 *   ({ namespace }) => redisJobBackend({ redis: new Redis(url), prefix: `test:${namespace}` }),
 *   { timeoutScale: 3, sharedBackend: true },
 * );
 * ```
 */
export function describeJobQueueConformance(
  name: string,
  factory: JobBackendFactory,
  options: JobQueueConformanceOptions = {},
): void {
  const { timeoutScale, seed } = checkOptions(options);
  // Lowercase letters, digits and underscores, starting with a letter: fits a key prefix, a schema or a queue name.
  const run = `jq_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;

  describe(`job queue conformance: ${name}`, async () => {
    const sharedBackend = await detectSharing(factory, `${run}_probe`, options.sharedBackend);
    let tests = 0;
    let harness: JobHarness | undefined;

    beforeEach(() => {
      tests++;
      const namespace = `${run}_${tests}`;
      harness = new JobHarness({
        factory,
        namespace,
        queueName: namespace,
        sharedBackend,
        timeoutScale,
        seed,
      });
    });
    afterEach(async () => {
      const current = harness;
      harness = undefined;
      await current?.closeAll();
    });

    for (const scenario of SCENARIOS) {
      describe(scenario.name, () => {
        for (const test of scenario.tests) {
          const reason =
            options.skip?.[scenario.name] ?? missingRequirement(test.requires ?? [], sharedBackend);
          (reason === undefined ? it : it.skip)(
            reason === undefined ? test.title : `${test.title} [skipped: ${reason}]`,
            async () => {
              if (harness === undefined) throw new Error('job queue harness missing: beforeEach did not run');
              await test.run(harness);
            },
            Math.round(BASE_TEST_TIMEOUT_MS * timeoutScale),
          );
        }
      });
    }
  });
}

function checkOptions(options: JobQueueConformanceOptions): { timeoutScale: number; seed: number } {
  const timeoutScale = options.timeoutScale ?? 1;
  if (!(Number.isFinite(timeoutScale) && timeoutScale > 0)) {
    throw new InvalidOptionError(WHERE, 'timeoutScale', `must be a positive number, got ${timeoutScale}`);
  }
  if (options.sharedBackend !== undefined && typeof options.sharedBackend !== 'boolean') {
    throw new InvalidOptionError(
      WHERE,
      'sharedBackend',
      `must be a boolean, got ${typeof options.sharedBackend}`,
    );
  }
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  if (!(Number.isSafeInteger(seed) && seed >= 0)) {
    throw new InvalidOptionError(WHERE, 'seed', `must be a non-negative integer, got ${seed}`);
  }
  const known = new Set<string>(SCENARIOS.map((scenario) => scenario.name));
  for (const [scenario, reason] of Object.entries(options.skip ?? {})) {
    if (!known.has(scenario)) {
      throw new InvalidOptionError(
        WHERE,
        `skip.${scenario}`,
        `is not a scenario; known: ${[...known].join(', ')}`,
      );
    }
    if (typeof reason !== 'string' || reason.trim() === '') {
      throw new InvalidOptionError(
        WHERE,
        `skip.${scenario}`,
        'must be the reason for skipping, a non-empty string',
      );
    }
  }
  return { timeoutScale, seed };
}

/**
 * Whether two backends of one namespace share their jobs: a job added through one is read through the other. A
 * claim of sharing that does not hold fails here, before any test, rather than as a confusing scenario failure.
 */
async function detectSharing(
  factory: JobBackendFactory,
  namespace: string,
  claimed: boolean | undefined,
): Promise<boolean> {
  if (claimed === false) return false;
  const queue = namespace.replaceAll('_', '-');
  const backends: JobBackend[] = [];
  try {
    backends.push(await factory({ namespace, instance: 0 }));
    backends.push(await factory({ namespace, instance: 1 }));
    const [writer, reader] = backends as [JobBackend, JobBackend];
    const probe = newJob({ type: 'conformance.probe', payload: {} });
    await writer.add(queue, [probe]);
    const shared = (await reader.get(queue, probe.id)) !== undefined;
    await writer.cancel(queue, probe.id);
    if (claimed === true && !shared) {
      throw new InvalidOptionError(
        WHERE,
        'sharedBackend',
        `is true, but a job added through instance 0 of namespace "${namespace}" is not visible through instance 1; make the factory map the namespace onto shared storage, or leave sharedBackend unset`,
      );
    }
    return shared;
  } finally {
    await Promise.allSettled(backends.map((backend) => backend.close()));
  }
}

function missingRequirement(
  requires: ReadonlyArray<JobRequirement>,
  sharedBackend: boolean,
): string | undefined {
  if (requires.includes('sharedBackend') && !sharedBackend) {
    return 'needs backend instances that share their jobs (options.sharedBackend, detected by default)';
  }
  return undefined;
}

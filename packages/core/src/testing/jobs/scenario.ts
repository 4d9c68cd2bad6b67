import type { JobHarness } from './harness';
import type { JobQueueScenarioName } from './options';

/**
 * What a test needs beyond the base contract: backends that share their jobs between instances.
 *
 * @example
 * ```ts
 * const requires: ReadonlyArray<JobRequirement> = ['sharedBackend'];
 * ```
 */
export type JobRequirement = 'sharedBackend';

/**
 * One test of a job queue scenario.
 *
 * @example
 * ```ts
 * const test: JobScenarioTest = { title: 'a job runs once', run: async (h) => {} };
 * ```
 */
export interface JobScenarioTest {
  readonly title: string;
  readonly requires?: ReadonlyArray<JobRequirement>;
  readonly run: (harness: JobHarness) => Promise<void>;
}

/**
 * A named group of tests; the name is what the `skip` option refers to.
 *
 * @example
 * ```ts
 * const scenario: JobScenario = { name: 'delays', tests: [] };
 * ```
 */
export interface JobScenario {
  readonly name: JobQueueScenarioName;
  readonly tests: ReadonlyArray<JobScenarioTest>;
}

import type { StoreHarness } from './harness';
import type { EventStoreScenarioName } from './options';

/**
 * One test of an event store scenario.
 *
 * @example
 * ```ts
 * const test: StoreScenarioTest = { title: 'an empty store has no head', run: async (h) => {} };
 * ```
 */
export interface StoreScenarioTest {
  readonly title: string;
  readonly run: (harness: StoreHarness) => Promise<void>;
}

/**
 * A named group of tests; the name is what the `skip` option refers to.
 *
 * @example
 * ```ts
 * const scenario: StoreScenario = { name: 'read-all', tests: [] };
 * ```
 */
export interface StoreScenario {
  readonly name: EventStoreScenarioName;
  readonly tests: ReadonlyArray<StoreScenarioTest>;
}

import type { Harness } from './harness';
import type { ScenarioName } from './options';

/** What a test needs beyond the base contract: a capability flag, or instances that share a backend. */
export type Requirement = 'durable' | 'groups' | 'delay' | 'orderedByKey' | 'deadLetters' | 'sharedBackend';

/** One test of a scenario. */
export interface ScenarioTest {
  readonly title: string;
  readonly requires?: ReadonlyArray<Requirement>;
  readonly run: (harness: Harness) => Promise<void>;
}

/** A named group of tests; the name is what the `skip` option refers to. */
export interface Scenario {
  readonly name: ScenarioName;
  readonly tests: ReadonlyArray<ScenarioTest>;
}

import type { ContenderResult } from './measure';
import type { BenchMeasure, BenchSettings } from './settings';

/**
 * Called by a contender's handler with the event's id, once the (validated) event reaches user code. The runner
 * uses it to count handled events and to timestamp handler entry.
 */
export type HandleProbe = (id: number) => void;

/** One contender, set up for one measured run. */
export interface BenchTarget {
  /**
   * Publishes event `id` and returns what the library's publish returns. A returned promise is not awaited one by
   * one (the runner bounds the events in flight instead), but its rejection fails the run.
   */
  publish(id: number): unknown;
  /** Events the handler has counted so far. */
  handled(): number;
  /** Releases everything the target holds. */
  close(): Promise<void>;
}

/**
 * Something to measure: an event bus or emitter with one subscriber whose handler calls the probe and increments
 * a counter. `setup` builds a fresh instance for every run.
 */
export interface Contender {
  readonly name: string;
  setup(probe: HandleProbe): Promise<BenchTarget>;
}

/** A target a group's results are checked against, printed under its table as met or not met. */
export interface BenchGoal {
  /** What is promised, such as "relaybus ≥ 70% of the raw loop's events/s". */
  readonly description: string;
  /** Reads the group's results and says whether the goal is met, with the figures that decide it. */
  check(results: ReadonlyArray<ContenderResult>): { readonly met: boolean; readonly detail: string };
}

/** Contenders measured side by side; ratios are relative to `baseline` (and to each of `compareWith`). */
export interface BenchGroup {
  /** Selected by the CLI filter by prefix: `core` runs `core/no-validation` and `core/validation`. */
  readonly id: string;
  readonly title: string;
  /** Name of the contender the other ones are compared with. */
  readonly baseline: string;
  readonly contenders: ReadonlyArray<Contender>;
  /** More contenders to show a ratio column against, after `baseline`. */
  readonly compareWith?: ReadonlyArray<string>;
  /**
   * What to measure.
   * @defaultValue both throughput and latency
   */
  readonly measures?: ReadonlyArray<BenchMeasure>;
  /** Overrides of the shared settings for this group (fewer events for slow backends, another latency rate). */
  readonly settings?: Partial<BenchSettings>;
  /** One line printed under the title: how this group's contenders are set up. */
  readonly note?: string;
  /** Targets checked against the results. */
  readonly goals?: ReadonlyArray<BenchGoal>;
}

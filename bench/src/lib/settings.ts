/** How every contender is measured. One set of numbers for all, so the results compare. */
export interface BenchSettings {
  /** Events per throughput run. */
  readonly events: number;
  /** Most events published but not yet handled. */
  readonly window: number;
  /** Measured throughput runs, after one warm-up run. */
  readonly runs: number;
  /** Publish rate of the latency run, in events per second. */
  readonly latencyRatePerSec: number;
  /** Length of a latency run. */
  readonly latencyDurationMs: number;
  /** Latency runs; the table shows the median p50 and the median p99. */
  readonly latencyRuns: number;
  /** Longest wait for the next handled event before a run is declared stuck. */
  readonly stallTimeoutMs: number;
  /**
   * How the latency run paces its publishes: `spin` checks on every `setImmediate` turn (precise at high rates,
   * keeps a core busy); `timer` wakes every millisecond and leaves the CPU to the consumer and the server in
   * between, as an application publishing at a modest rate would. Each event's start is stamped just before its
   * publish either way.
   */
  readonly latencyPacing: 'spin' | 'timer';
}

/** What a group measures: `throughput` rounds, `latency` rounds, or both (the default). */
export type BenchMeasure = 'throughput' | 'latency';

export const SETTINGS: BenchSettings = {
  events: 200_000,
  window: 1_000,
  runs: 7,
  latencyRatePerSec: 20_000,
  latencyDurationMs: 1_000,
  latencyRuns: 3,
  stallTimeoutMs: 10_000,
  latencyPacing: 'spin',
};

/** The settings a group runs with: the shared ones, with the group's own overrides on top. */
export function settingsFor(
  group: { readonly settings?: Partial<BenchSettings> },
  base: BenchSettings,
): BenchSettings {
  return { ...base, ...group.settings };
}

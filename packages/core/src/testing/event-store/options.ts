import type { EventStore } from '../../store/event-store';

/**
 * What the event store conformance suite tells an {@link EventStoreFactory} about the store it wants.
 *
 * @example
 * ```ts
 * const factory: EventStoreFactory = ({ namespace }) => postgresEventStore({ pool, schema: namespace });
 * ```
 */
export interface EventStoreFactoryContext {
  /**
   * Unique per test (and per run of the suite). It matches `/^[a-z][a-z0-9_]{0,39}$/`, so it is usable as it is
   * as an unquoted Postgres schema name, a table prefix or a Redis key prefix. Every stream name a test uses
   * starts with it, followed by `-`.
   */
  readonly namespace: string;
}

/**
 * Makes the event store one conformance test runs against. The suite calls it once per test, lazily, and closes
 * the store after the test.
 *
 * The rule: for a namespace it has not seen before, the factory MUST return a store whose global log is empty
 * (`headPosition()` is `undefined`), because the suite asserts exact global sequences, positions and
 * `headPosition()` values. Give each namespace its own log: a fresh in-memory store, a Postgres schema named
 * after the namespace (created by the factory, dropped by the test file once the suite is done), or a table
 * truncated by the factory (tests of one file run one after another). The suite checks the rule when it opens
 * each test's store and fails with a message naming it.
 *
 * Stream names are prefixed with the namespace as well, so stores whose stream or event-id tables outlive one
 * namespace still never see two tests write to the same stream. Event ids are fresh UUIDv7 values.
 *
 * @example
 * ```ts
 * const factory: EventStoreFactory = () => memoryEventStore();
 * ```
 * @example
 * ```ts
 * const factory: EventStoreFactory = async ({ namespace }) => {
 *   await pool.query(`CREATE SCHEMA ${namespace}`);
 *   return postgresEventStore({ pool, schema: namespace });
 * };
 * ```
 */
export type EventStoreFactory = (context: EventStoreFactoryContext) => EventStore | Promise<EventStore>;

/**
 * The scenarios of the event store conformance suite, by name. Each is a `describe` block of one or more tests.
 *
 * @example
 * ```ts
 * const name: EventStoreScenarioName = 'catch-up';
 * ```
 */
export type EventStoreScenarioName =
  | 'expected-version'
  | 'idempotent-append'
  | 'atomic-batch'
  | 'read-stream'
  | 'read-all'
  | 'filtered-paging'
  | 'stream-order'
  | 'catch-up'
  | 'wait-for-events'
  | 'large-stream'
  | 'validation'
  | 'versions-and-head';

/**
 * Options of {@link describeEventStoreConformance}.
 *
 * @example
 * ```ts
 * describeEventStoreConformance('postgres', factory, { timeoutScale: 3 });
 * ```
 */
export interface EventStoreConformanceOptions {
  /**
   * Multiplies every wait bound, quiet period and test timeout, for slow backends or CI machines. Bounds are upper
   * limits, so a larger scale only makes failing runs slower.
   * @defaultValue 1
   */
  readonly timeoutScale?: number;
  /**
   * Scenarios to skip, each with the reason, which is printed in the skipped tests' names.
   * @defaultValue none
   */
  readonly skip?: Readonly<Partial<Record<EventStoreScenarioName, string>>>;
}

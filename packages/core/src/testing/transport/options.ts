import type { Transport } from '../../transport/transport';

/**
 * What the conformance suite tells a {@link TransportFactory} about the instance it wants.
 *
 * @example
 * ```ts
 * const factory: TransportFactory = ({ namespace }) => redisTransport({ redis, prefix: namespace });
 * ```
 */
export interface TransportFactoryContext {
  /**
   * Unique per test, and the same for every instance one test asks for. Map it onto whatever isolates data in the
   * backend (a Redis key prefix, a Postgres schema, a NATS subject prefix) so tests never see each other's messages
   * while the instances of one test act as processes of one deployment. It is at most 32 characters of lowercase
   * letters, digits and underscores, starting with a letter, so it fits a key prefix or a schema name as it is.
   */
  readonly namespace: string;
  /** 0 for the first instance a test asks for, 1 for the second, and so on. */
  readonly instance: number;
}

/**
 * Makes a transport for the conformance suite. The suite calls it at least once per test, and several times in
 * tests that play publisher and consumer processes; it closes every instance it made after each test.
 *
 * Instances made with the same `namespace` must share one backend (the same Redis database and key prefix, say),
 * so that what one publishes another consumes; instances made with different namespaces must not see each other's
 * messages, groups or dead letters. A transport whose instances cannot share a backend (the in-memory one) simply
 * returns independent instances: the suite then runs every scenario on one instance and skips the few that need
 * two processes (see {@link TransportConformanceOptions.sharedBackend}).
 *
 * @example
 * ```ts
 * const factory: TransportFactory = async ({ namespace }) =>
 *   redisTransport({ redis: new Redis(url), prefix: `test:${namespace}` });
 * ```
 */
export type TransportFactory = (context: TransportFactoryContext) => Transport | Promise<Transport>;

/**
 * The scenarios of the transport conformance suite, by name. Each is a `describe` block of one or more tests.
 *
 * @example
 * ```ts
 * const name: ScenarioName = 'key-order';
 * ```
 */
export type ScenarioName =
  | 'publish-subscribe'
  | 'competing-consumers'
  | 'topic-isolation'
  | 'nack-redelivery'
  | 'visibility-timeout'
  | 'group-reopen'
  | 'close'
  | 'groups-independent'
  | 'fan-out'
  | 'key-order'
  | 'delayed-delivery'
  | 'dead-letters'
  | 'patterns'
  | 'publisher-flush'
  | 'validation'
  | 'start-from'
  | 'declared-groups'
  | 'subscribe-readiness';

/**
 * Options of {@link describeTransportConformance}.
 *
 * @example
 * ```ts
 * describeTransportConformance('redis', factory, { timeoutScale: 4, visibilityTimeoutMs: 1_000 });
 * ```
 */
export interface TransportConformanceOptions {
  /**
   * Multiplies every wait bound and quiet period, for slow backends or CI machines. Bounds are upper limits, so a
   * larger scale only makes failing runs slower.
   * @defaultValue 1
   */
  readonly timeoutScale?: number;
  /**
   * Visibility timeout given to subscriptions in the redelivery scenarios, in milliseconds. Those scenarios check
   * that other messages are handled while a lease is still held, so it must comfortably exceed the backend's
   * delivery latency; raise it when the backend cannot deliver or reclaim leases this fast.
   * @defaultValue 300
   */
  readonly visibilityTimeoutMs?: number;
  /**
   * Whether instances the factory makes with the same namespace share a backend, so that one can publish and
   * another consume. When `true`, consumers run on separate instances where a scenario has several, and the
   * scenarios that need two processes run.
   * @defaultValue the transport's `capabilities.durable`
   */
  readonly sharedBackend?: boolean;
  /**
   * Scenarios to skip, each with the reason, which is printed in the skipped test's name. Prefer capability flags:
   * a transport that lacks a capability has its scenarios skipped without being told.
   * @defaultValue none
   */
  readonly skip?: Readonly<Partial<Record<ScenarioName, string>>>;
}

import type { JobBackend } from '../../jobs/backend';

/**
 * What the job queue conformance suite tells a {@link JobBackendFactory} about the backend it wants.
 *
 * @example
 * ```ts
 * const factory: JobBackendFactory = ({ namespace }) => redisJobBackend({ redis, prefix: namespace });
 * ```
 */
export interface JobBackendFactoryContext {
  /**
   * Unique per test, and the same for every backend one test asks for. Map it onto whatever isolates data (a Redis
   * key prefix, a Postgres schema) so that tests never see each other's jobs while the backends of one test act as
   * processes of one deployment. It is at most 32 characters of lowercase letters, digits and underscores, starting
   * with a letter, so it fits a key prefix or a schema name as it is. Each test also uses its own queue name.
   */
  readonly namespace: string;
  /** 0 for the first backend a test asks for, 1 for the second, and so on. */
  readonly instance: number;
}

/**
 * Makes a job backend for the conformance suite. The suite calls it at least once per test, and once per simulated
 * process in tests that play several workers or schedulers; it closes every backend it made after each test (the
 * queues it builds on them never close a backend they were given).
 *
 * Backends made with the same `namespace` should share their data when the backend is durable (the same Redis
 * database and key prefix), so that a job one enqueues another runs; backends made with different namespaces must
 * not see each other's jobs. A backend whose instances cannot share data (the in-memory one) returns independent
 * instances: the suite then plays every process on one backend and skips the tests that need two instances (see
 * {@link JobQueueConformanceOptions.sharedBackend}).
 *
 * @example
 * ```ts
 * const factory: JobBackendFactory = () => memoryJobBackend();
 * ```
 * @example
 * ```ts
 * const factory: JobBackendFactory = ({ namespace }) =>
 *   redisJobBackend({ redis: new Redis(url), prefix: `test:${namespace}` });
 * ```
 */
export type JobBackendFactory = (context: JobBackendFactoryContext) => JobBackend | Promise<JobBackend>;

/**
 * The scenarios of the job queue conformance suite, by name. Each is a `describe` block of one or more tests.
 *
 * @example
 * ```ts
 * const name: JobQueueScenarioName = 'crashes-and-leases';
 * ```
 */
export type JobQueueScenarioName =
  | 'enqueue-and-handle'
  | 'bad-input'
  | 'delays'
  | 'retries'
  | 'timeouts'
  | 'uniqueness'
  | 'priorities'
  | 'groups'
  | 'crashes-and-leases'
  | 'graceful-shutdown'
  | 'inspection-and-control'
  | 'dead-jobs'
  | 'periodic-jobs'
  | 'idle-pickup';

/**
 * Options of {@link describeJobQueueConformance}.
 *
 * @example
 * ```ts
 * describeJobQueueConformance('redis', factory, { timeoutScale: 3, sharedBackend: true });
 * ```
 */
export interface JobQueueConformanceOptions {
  /**
   * Multiplies every wait bound, quiet period, lease and test timeout, for slow backends or CI machines. Bounds are
   * upper limits, so a larger scale only makes failing runs slower. Lower bounds (a delay is never early) are not
   * scaled.
   * @defaultValue 1
   */
  readonly timeoutScale?: number;
  /**
   * Whether backends the factory makes with the same namespace share their jobs, so that one process can enqueue
   * and another run. When `true`, simulated processes get backends of their own and the tests that need two
   * instances run; the suite checks the claim once and fails loudly when it does not hold.
   * @defaultValue detected: a job added through one instance is visible through a second one of the same namespace
   */
  readonly sharedBackend?: boolean;
  /**
   * Seed of the randomised tests (schedulers started and closed at random). Every run prints its seed in the
   * randomised tests' failure messages; pass it here to replay a failing run.
   * @defaultValue a new seed per run
   */
  readonly seed?: number;
  /**
   * Scenarios to skip, each with the reason, which is printed in the skipped tests' names.
   * @defaultValue none
   */
  readonly skip?: Readonly<Partial<Record<JobQueueScenarioName, string>>>;
}

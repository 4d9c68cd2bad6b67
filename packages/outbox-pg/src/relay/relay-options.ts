import type {
  Logger,
  OutboxJobReceiver,
  RelaybusErrorCode,
  RetryOptions,
  RetryPolicy,
  Transport,
} from '@relaybus/core';
import { consoleLogger, InvalidOptionError, RelaybusError, resolveRetry } from '@relaybus/core';
import type { Pool } from 'pg';
import { checkIdentifier } from '../identifiers';
import { DEFAULTS } from '../options';

/** Defaults of every relay option, in one place. */
export const RELAY_DEFAULTS = {
  name: 'default',
  batchSize: 100,
  leaseTtlMs: 10_000,
  pollIntervalMs: 1_000,
  retry: { attempts: 10, backoff: { initialDelayMs: 250, maxDelayMs: 10_000 } },
  crashLimit: 3,
  statsIntervalMs: 5_000,
} as const;

/**
 * Options of {@link createOutboxRelay}. Give `transport` or `bus`.
 *
 * @example
 * ```ts
 * const relay = createOutboxRelay({ pool, transport: redisTransport({ redis }), name: 'orders' });
 * ```
 */
export interface OutboxRelayOptions {
  /** The `pg` pool the relay queries through. The relay never ends it. */
  pool: Pool;
  /**
   * The schema {@link migrate} created the tables in.
   * @defaultValue 'relaybus'
   */
  schema?: string;
  /**
   * Where events go. Give this or `bus`. Required even when the relay is there for `jobQueues`: every relay name
   * reads the whole log, so a relay without a transport could only skip the other events (and lose them silently)
   * or park them all. An application that only enqueues has a transport at hand anyway: the Redis job backend
   * comes from `redisTransport(...)`, and with the memory backend a `memoryTransport()` does.
   */
  transport?: Transport;
  /**
   * A bus whose transport events go to (`bus.transport`), such as the bus whose Postgres store the relay reads.
   * The bus's publish middleware does not run again: it ran when the event was published.
   */
  bus?: { readonly transport: Transport };
  /**
   * The job queues whose `enqueue(..., { transaction })` writes to this log. Events of type `relaybus.job.enqueued`
   * (`JOB_ENQUEUED_EVENT`) are handed to the queue named in the event (`queue.receiveFromOutbox(event)`) instead
   * of being published; all other events go to the transport. Both keep the log's order per partition, and a
   * partition's checkpoint moves past a job only once its queue accepted it, so a job whose transaction committed
   * is added at least once (a job handed over again is added once, by its id), and a rolled-back one never.
   *
   * - A job for a queue not in this list, or one the queue refuses (`INVALID_ENVELOPE`, `UNKNOWN_JOB`,
   *   `VALIDATION_FAILED`), is parked at once with the reason (`UnknownJobQueueError` for the former); give the
   *   relay the queue, or deploy the job type, and redrive it with `relay.parked.redrive()`. With no list at all,
   *   every job is parked that way: the relay never publishes a job to the transport, where no worker would run it.
   * - A job backend that cannot be reached (`TRANSPORT_UNAVAILABLE`, `STORE_UNAVAILABLE`) is retried with `retry`,
   *   without end, like a transport outage; its partition waits. Other errors are retried and then parked as for
   *   a publish.
   *
   * Queue names must be unique. Close the relay before the queues.
   * @defaultValue none: jobs in the log are parked
   */
  jobQueues?: ReadonlyArray<OutboxJobReceiver>;
  /**
   * The relay's name: instances with the same name share the work (each partition is leased to one of them) and
   * one checkpoint per partition. Relays with different names each deliver the whole log.
   * @defaultValue 'default'
   */
  name?: string;
  /**
   * Most events read and published per partition in one step.
   * @defaultValue 100
   */
  batchSize?: number;
  /**
   * How long a partition lease lasts without renewal, in milliseconds (the Redis transport's `leaseTtlMs` is the
   * same idea): a dead instance's partitions are taken over after this. Leases are renewed every third of it.
   * @defaultValue 10000
   */
  leaseTtlMs?: number;
  /**
   * Longest pause between polls while idle, in milliseconds: the bound on how late a lost notification is noticed.
   * @defaultValue 1000
   */
  pollIntervalMs?: number;
  /**
   * LISTEN for appends of other processes (on one pooled connection). Turn off behind PgBouncer in transaction
   * mode; polling remains.
   * @defaultValue true
   */
  listen?: boolean;
  /**
   * Delivery retries, in core's vocabulary (`RetryOptions`, as for subscriptions). `attempts`: publish attempts
   * (or job hand-overs) of one event that fail while the same transport (or job queue) accepts other events,
   * before it is parked. A destination that fails everything, or fails with `TRANSPORT_UNAVAILABLE` or
   * `STORE_UNAVAILABLE` (it cannot be reached), is retried without end instead. `backoff`: the pause after a
   * failed delivery, and after a failed step (a lost connection) of the relay loop.
   * @defaultValue `{ attempts: 10, backoff: { initialDelayMs: 250, maxDelayMs: 10_000 } }` (exponential, full
   * jitter)
   */
  retry?: RetryOptions;
  /**
   * Relay instances that may stop (crash, get killed) while publishing one event (or handing one job to its queue)
   * before that event is parked as the cause of a crash loop. Only a crash during that event's delivery counts: an
   * instance that dies while its partitions are idle, or while delivering other events, does not.
   * @defaultValue 3
   */
  crashLimit?: number;
  /**
   * Whether a delivery error is final for that event (it is parked at once, not retried). For jobs, the refusals
   * of a queue (`INVALID_ENVELOPE`, `UNKNOWN_JOB`, `VALIDATION_FAILED`) are final whatever this says.
   * @defaultValue {@link defaultIsPoison}: errors with the codes `PAYLOAD_TOO_LARGE`, `NON_RETRYABLE`,
   * `VALIDATION_FAILED` or `INVALID_ENVELOPE`, and `TypeError`/`RangeError` (an envelope that cannot be serialised)
   */
  isPoison?: (error: unknown) => boolean;
  /**
   * How often `registerMetrics` refreshes the cached lag statistics its gauges read, in milliseconds.
   * @defaultValue 5000
   */
  statsIntervalMs?: number;
  /**
   * Where background problems are reported.
   * @defaultValue consoleLogger (warnings and errors)
   */
  logger?: Logger;
  /** Aborting it closes the relay. */
  signal?: AbortSignal;
}

/** Relay options with defaults applied and checked. */
export interface ResolvedRelayOptions {
  readonly pool: Pool;
  readonly schema: string;
  readonly transport: Transport;
  /** The `jobQueues`, by name. */
  readonly jobQueues: ReadonlyMap<string, OutboxJobReceiver>;
  readonly name: string;
  readonly batchSize: number;
  readonly leaseTtlMs: number;
  readonly pollIntervalMs: number;
  readonly listen: boolean;
  readonly retry: RetryPolicy;
  readonly crashLimit: number;
  readonly isPoison: (error: unknown) => boolean;
  readonly statsIntervalMs: number;
  readonly logger: Logger;
  readonly signal: AbortSignal | undefined;
}

/** Failures that end the same way on every attempt, by code (relaybus errors of any copy of the package). */
const POISON_CODES: ReadonlyArray<RelaybusErrorCode> = [
  'PAYLOAD_TOO_LARGE',
  'NON_RETRYABLE',
  'VALIDATION_FAILED',
  'INVALID_ENVELOPE',
];

/**
 * The default poison test: errors that will fail the same way on every attempt, such as a message the transport
 * says is too large (`PAYLOAD_TOO_LARGE`, whichever transport threw it) or an invalid envelope. Other errors are
 * retried (see `retry`).
 *
 * @example
 * ```ts
 * createOutboxRelay({ pool, transport, isPoison: (e) => defaultIsPoison(e) || isQuotaExceeded(e) });
 * ```
 */
export function defaultIsPoison(error: unknown): boolean {
  return (
    POISON_CODES.some((code) => RelaybusError.is(error, code)) ||
    error instanceof TypeError ||
    error instanceof RangeError
  );
}

/** Options of earlier releases, and what took their place (refused loudly rather than ignored). */
const RENAMED: ReadonlyArray<readonly [string, string]> = [
  ['leaseMs', 'leaseTtlMs'],
  ['maxAttempts', 'retry.attempts'],
  ['retryDelayMs', 'retry.backoff.initialDelayMs'],
  ['maxRetryDelayMs', 'retry.backoff.maxDelayMs'],
];

/**
 * Applies defaults to relay options and checks them.
 *
 * @throws `InvalidOptionError` naming the first option at fault.
 */
export function resolveRelayOptions(options: OutboxRelayOptions): ResolvedRelayOptions {
  const where = 'createOutboxRelay()';
  const pool: unknown = options?.pool;
  if (typeof pool !== 'object' || pool === null || typeof Reflect.get(pool, 'connect') !== 'function') {
    throw new InvalidOptionError(where, 'pool', 'must be a pg Pool (new pg.Pool(...))');
  }
  for (const [old, now] of RENAMED) {
    if (Reflect.has(options, old)) {
      throw new InvalidOptionError(where, old, `was replaced by "${now}"; pass that instead`);
    }
  }
  const transport = options.transport ?? options.bus?.transport;
  if (transport === undefined || typeof transport.publish !== 'function') {
    throw new InvalidOptionError(where, 'transport', 'is required: pass a Transport, or a bus with one');
  }
  const name = options.name ?? RELAY_DEFAULTS.name;
  if (typeof name !== 'string' || name.length === 0 || name.length > 200) {
    throw new InvalidOptionError(where, 'name', `must be a non-empty string of at most 200 characters`);
  }
  const int = (option: string, value: number, min: number): number => {
    if (!Number.isInteger(value) || value < min) {
      throw new InvalidOptionError(where, option, `must be an integer >= ${min}, got ${String(value)}`);
    }
    return value;
  };
  return {
    pool: options.pool,
    schema: checkIdentifier(where, 'schema', options.schema ?? DEFAULTS.schema),
    transport,
    jobQueues: jobQueuesByName(where, options.jobQueues),
    name,
    batchSize: int('batchSize', options.batchSize ?? RELAY_DEFAULTS.batchSize, 1),
    leaseTtlMs: int('leaseTtlMs', options.leaseTtlMs ?? RELAY_DEFAULTS.leaseTtlMs, 300),
    pollIntervalMs: int('pollIntervalMs', options.pollIntervalMs ?? RELAY_DEFAULTS.pollIntervalMs, 10),
    listen: options.listen ?? DEFAULTS.listen,
    retry: resolveRetry(where, options.retry, RELAY_DEFAULTS.retry),
    crashLimit: int('crashLimit', options.crashLimit ?? RELAY_DEFAULTS.crashLimit, 1),
    isPoison: options.isPoison ?? defaultIsPoison,
    statsIntervalMs: int('statsIntervalMs', options.statsIntervalMs ?? RELAY_DEFAULTS.statsIntervalMs, 10),
    logger: options.logger ?? consoleLogger,
    signal: options.signal,
  };
}

/** The `jobQueues` option as a map by name, checked. */
function jobQueuesByName(
  where: string,
  queues: ReadonlyArray<OutboxJobReceiver> | undefined,
): ReadonlyMap<string, OutboxJobReceiver> {
  const byName = new Map<string, OutboxJobReceiver>();
  if (queues === undefined) return byName;
  if (!Array.isArray(queues)) {
    throw new InvalidOptionError(where, 'jobQueues', 'must be an array of job queues (createJobQueue(...))');
  }
  for (const [index, queue] of queues.entries()) {
    const name: unknown = queue?.name;
    if (typeof name !== 'string' || typeof queue.receiveFromOutbox !== 'function') {
      throw new InvalidOptionError(
        where,
        `jobQueues[${index}]`,
        'must be a job queue from createJobQueue() (with a name and receiveFromOutbox)',
      );
    }
    if (byName.has(name)) {
      throw new InvalidOptionError(
        where,
        `jobQueues[${index}]`,
        `is a second queue named "${name}": a job names one queue, so give each queue once`,
      );
    }
    byName.set(name, queue);
  }
  return byName;
}

import type { MetricsMiddleware } from '@relaybus/core';
import { ClosedError, uuidv7 } from '@relaybus/core';
import { SchemaVersionError } from '../errors';
import { notifyChannel, tablesOf } from '../identifiers';
import { onLocalCommit } from '../local-commits';
import { SCHEMA_VERSION } from '../migrations';
import { headPosition } from '../reads';
import { pgCode, run } from '../sql/query';
import { storeStatements } from '../sql/store-statements';
import { createWakeups } from '../wakeups';
import type { Lease, LeaseContext } from './leases';
import { rebalance, releaseAll, renew } from './leases';
import type { StepContext } from './partition-step';
import { isBatchable, stepPartition, stepPartitions } from './partition-step';
import type { RelayMetricsOptions } from './relay-metrics';
import { registerRelayMetrics } from './relay-metrics';
import type { OutboxRelayOptions } from './relay-options';
import { resolveRelayOptions } from './relay-options';
import { relayStatements } from './relay-statements';
import type { OutboxRelayStats } from './relay-stats';
import { readRelayStats } from './relay-stats';

/**
 * A running outbox relay: forwards the event log to a transport, partition by partition, under leases.
 *
 * @example
 * ```ts
 * await using relay = createOutboxRelay({ pool, transport });
 * await relay.start();
 * console.log(await relay.stats());
 * ```
 */
export interface OutboxRelay extends AsyncDisposable {
  /** The relay name (instances with one name share the work). */
  readonly name: string;
  /** This instance's owner id in the lease rows. */
  readonly owner: string;
  /** The partitions this instance holds right now. */
  ownedPartitions(): number[];
  /**
   * Creates the lease rows if needed, claims a fair share of the partitions and starts forwarding. Idempotent.
   * @throws {@link SchemaVersionError} when the schema is not migrated.
   */
  start(): Promise<void>;
  /**
   * Stops forwarding, waits up to `timeoutMs` for the batch in flight, and gives the leases back so other
   * instances continue at once.
   */
  close(options?: { readonly timeoutMs?: number }): Promise<void>;
  /** Lag per partition, the oldest in-flight writing transaction, and the parked count. */
  stats(): Promise<OutboxRelayStats>;
  /**
   * Adds gauges for lag, the oldest transaction and parked events to a `metrics()` middleware, read from stats
   * refreshed every `statsIntervalMs`. Returns a function that removes them.
   */
  registerMetrics(metrics: MetricsMiddleware, options?: RelayMetricsOptions): () => void;
}

/**
 * Creates an outbox relay over the Postgres event log. Each pass reads the next batch of every partition it holds
 * below the visibility horizon (one statement), publishes them with no transaction open (one call), then advances
 * the checkpoints with one compare-and-set on their lease rows (fencing tokens). Instances with the same name split the key partitions under leases (fair
 * share, heartbeat renewal, takeover after expiry), so per-key order holds with several processes. It wakes on
 * local commits in this process, on NOTIFY from others, and polls as a safety net. Delivery is at least once:
 * consumers deduplicate by event id (see {@link createInbox}).
 *
 * @throws `InvalidOptionError` for malformed options (at once).
 * @example
 * ```ts
 * import { createOutboxRelay } from '@relaybus/outbox-pg';
 *
 * const relay = createOutboxRelay({ pool, transport: redisTransport({ redis }), name: 'main' });
 * await relay.start();
 * process.on('SIGTERM', () => void relay.close({ timeoutMs: 5_000 }));
 * ```
 */
export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const config = resolveRelayOptions(options);
  const { pool, schema, name, leaseMs, logger } = config;
  const tables = tablesOf(schema);
  const sql = relayStatements(tables);
  const storeSql = storeStatements(tables);
  const owner = `${uuidv7()}`;
  const owned = new Map<number, Lease>();
  const leaseContext: LeaseContext = { pool, sql, relay: name, owner, leaseMs };
  let partitions = 0;
  let epoch = 1;
  const context: StepContext = {
    ...leaseContext,
    transport: config.transport,
    epoch: () => epoch,
    batchSize: config.batchSize,
    maxAttempts: config.maxAttempts,
    crashLimit: config.crashLimit,
    retryDelayMs: config.retryDelayMs,
    maxRetryDelayMs: config.maxRetryDelayMs,
    isPoison: config.isPoison,
    logger,
    lastAcceptedAt: 0,
  };
  const wakeups = createWakeups({
    pool,
    channel: config.listen ? notifyChannel(schema) : undefined,
    pollIntervalMs: config.pollIntervalMs,
    logger,
    head: () => headPosition({ db: pool, sql: storeSql, epoch }),
  });
  const maintainEveryMs = Math.max(100, Math.floor(leaseMs / 3));
  let started: Promise<void> | undefined;
  let loop: Promise<void> | undefined;
  let stopping = false;
  let closed: Promise<void> | undefined;
  let idle: AbortController | undefined;
  let nextMaintenance = 0;
  let leaseQueue: Promise<unknown> = Promise.resolve();
  let renewTimer: ReturnType<typeof setInterval> | undefined;
  const offLocal = onLocalCommit(schema, () => wakeups.hint());

  /** Lease changes run one at a time: a renewal must not race a claim. */
  function exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = leaseQueue.then(fn, fn);
    leaseQueue = next.catch(() => undefined);
    return next;
  }

  async function loadMeta(): Promise<void> {
    try {
      const [meta] = await run<{ partitions: number; epoch: number }>(pool, sql.meta);
      if (meta === undefined) throw new SchemaVersionError(schema, 0, SCHEMA_VERSION);
      partitions = meta.partitions;
      epoch = meta.epoch;
    } catch (error) {
      if (pgCode(error) === '42P01' || pgCode(error) === '3F000') {
        throw new SchemaVersionError(schema, 0, SCHEMA_VERSION, { cause: error });
      }
      throw error;
    }
  }

  async function maintain(): Promise<void> {
    await loadMeta();
    await exclusive(() => rebalance(leaseContext, owned, partitions, () => true));
    nextMaintenance = Date.now() + maintainEveryMs;
  }

  async function pass(): Promise<{ progressed: boolean; retryAt: number }> {
    const leases = [...owned.values()];
    const plain = leases.filter((lease) => isBatchable(context, lease));
    const batched = new Set(plain);
    let progressed = (await stepPartitions(context, plain, owned)) === 'progress';
    for (const lease of leases) {
      if (stopping) break;
      if (batched.has(lease) || owned.get(lease.partition) !== lease) continue;
      if ((await stepPartition(context, lease, owned)) === 'progress') progressed = true;
    }
    const now = Date.now();
    let retryAt = Number.POSITIVE_INFINITY;
    for (const lease of owned.values()) if (lease.retryAt > now) retryAt = Math.min(retryAt, lease.retryAt);
    return { progressed, retryAt };
  }

  async function pause(from: string | undefined, untilMs: number, useWakeups: boolean): Promise<void> {
    const controller = new AbortController();
    idle = controller;
    const timer = setTimeout(() => controller.abort(), Math.max(0, untilMs - Date.now()));
    try {
      if (useWakeups) await wakeups.wait(from, controller.signal);
      else await new Promise<void>((resolve) => controller.signal.addEventListener('abort', () => resolve()));
    } catch {
      // Aborted by the deadline or close, or the poll failed: the next pass finds out.
    } finally {
      clearTimeout(timer);
      idle = undefined;
    }
  }

  async function runLoop(): Promise<void> {
    let failures = 0;
    while (!stopping) {
      try {
        if (Date.now() >= nextMaintenance) await maintain();
        // Read the head first: everything up to it is seen by the pass, so waiting for a newer head loses nothing.
        const head = await headPosition({ db: pool, sql: storeSql, epoch });
        const { progressed, retryAt } = await pass();
        failures = 0;
        if (!progressed && !stopping) await pause(head, Math.min(nextMaintenance, retryAt), true);
      } catch (error) {
        failures += 1;
        // After a failure (a lost connection, a restart) leases are re-checked and every partition polled.
        nextMaintenance = 0;
        logger.warn('outbox relay: a step failed; retrying', { relay: name, attempt: failures, error });
        const delay = Math.min(config.retryDelayMs * 2 ** Math.min(failures - 1, 10), config.maxRetryDelayMs);
        if (!stopping) await pause(undefined, Date.now() + delay, false);
      }
    }
  }

  function startRenewals(): void {
    renewTimer = setInterval(() => {
      exclusive(() => renew(leaseContext, owned)).catch((error: unknown) => {
        logger.warn('outbox relay: renewing leases failed', { relay: name, error });
      });
    }, maintainEveryMs);
    renewTimer.unref?.();
  }

  async function start(): Promise<void> {
    await loadMeta();
    await run(pool, sql.ensureLeases, [name, partitions]);
    await maintain();
    startRenewals();
    loop = runLoop();
  }

  async function close(closeOptions: { readonly timeoutMs?: number } = {}): Promise<void> {
    closed ??= (async () => {
      stopping = true;
      offLocal();
      config.signal?.removeEventListener('abort', onAbort);
      idle?.abort();
      if (renewTimer !== undefined) clearInterval(renewTimer);
      await started?.catch(() => undefined);
      if (loop !== undefined) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const timeout = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, closeOptions.timeoutMs ?? 10_000);
        });
        await Promise.race([loop, timeout]);
        clearTimeout(timer);
      }
      await exclusive(() => releaseAll(leaseContext, owned)).catch((error: unknown) => {
        logger.warn('outbox relay: releasing leases failed; they expire on their own', {
          relay: name,
          error,
        });
      });
      await wakeups.close();
    })();
    return closed;
  }

  const onAbort = (): void => void close();
  if (config.signal?.aborted === true) void close();
  else config.signal?.addEventListener('abort', onAbort, { once: true });

  return {
    name,
    owner,
    ownedPartitions: () => [...owned.keys()].sort((a, b) => a - b),
    start() {
      if (stopping) return Promise.reject(new ClosedError(`outbox relay "${name}"`, 'start'));
      started ??= start().catch((error: unknown) => {
        started = undefined;
        throw error;
      });
      return started;
    },
    close,
    stats: () => readRelayStats(pool, tables, name, owned),
    registerMetrics: (metrics, metricsOptions) =>
      registerRelayMetrics(metrics, () => readRelayStats(pool, tables, name, owned), {
        intervalMs: config.statsIntervalMs,
        logger,
        ...metricsOptions,
      }),
    [Symbol.asyncDispose]: () => close(),
  };
}

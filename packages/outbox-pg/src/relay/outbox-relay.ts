import type { MetricsMiddleware } from '@relaybus/core';
import { ClosedError, uuidv7 } from '@relaybus/core';
import { guarded, storeFailure } from '../failures';
import { notifyChannel, tablesOf } from '../identifiers';
import { onLocalCommit } from '../local-commits';
import { guardPoolErrors } from '../pool-errors';
import { headPosition } from '../reads';
import { run } from '../sql/query';
import { storeStatements } from '../sql/store-statements';
import { createWakeups } from '../wakeups';
import { isBatchable, stepPartitions } from './batch-step';
import type { StepContext } from './checkpoints';
import { asError } from './checkpoints';
import type { Destinations } from './deliveries';
import type { Lease, LeaseContext } from './leases';
import { readMeta, rebalance, releaseAllBefore, renew } from './leases';
import type { ParkedEvents } from './parked-events';
import { parkedEvents } from './parked-events';
import { stepPartition } from './partition-step';
import type { RelayMetricsOptions } from './relay-metrics';
import { registerRelayMetrics } from './relay-metrics';
import type { OutboxRelayOptions } from './relay-options';
import { resolveRelayOptions } from './relay-options';
import { relayStatements } from './relay-statements';
import type { OutboxRelayStats } from './relay-stats';
import { readRelayStats } from './relay-stats';

/**
 * A running outbox relay: forwards the event log to a transport (and jobs enqueued in a transaction to their job
 * queues), partition by partition, under leases.
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
   * @throws `StoreUnavailableError` when Postgres cannot be reached, `StoreError` when it fails a statement.
   */
  start(): Promise<void>;
  /**
   * Stops forwarding, waits up to `timeoutMs` for the batch in flight, and gives the leases back so other
   * instances continue at once (retrying over a dropped connection within `timeoutMs`; if Postgres stays
   * unreachable, it logs one warning and the leases expire after `leaseTtlMs`).
   */
  close(options?: { readonly timeoutMs?: number }): Promise<void>;
  /** The events this relay name parked: list, inspect, redrive, purge. Works whether or not the relay runs. */
  readonly parked: ParkedEvents;
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
 * below the visibility horizon (one statement), publishes them with no transaction open (one call; jobs that
 * `enqueue(..., { transaction })` wrote are handed to their `jobQueues` in log order between publishes), then
 * advances the checkpoints with one compare-and-set on their lease rows (fencing tokens). Instances with the same
 * name split the key partitions under leases (fair share, heartbeat renewal, takeover after expiry), so per-key
 * order holds with several processes. It wakes on local commits in this process, on NOTIFY from others, and polls
 * as a safety net. Delivery is at least once:
 * consumers deduplicate by event id (see {@link createInbox}).
 *
 * @throws `InvalidOptionError` for malformed options (at once).
 * @example
 * ```ts
 * import { createOutboxRelay } from '@relaybus/outbox-pg';
 *
 * const relay = createOutboxRelay({ pool, bus, jobQueues: [jobs], name: 'main' }); // bus and jobs share the store
 * await relay.start();
 * process.on('SIGTERM', () => void relay.close({ timeoutMs: 5_000 }));
 * ```
 */
export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const config = resolveRelayOptions(options);
  const { pool, schema, name, leaseTtlMs, logger } = config;
  const tables = tablesOf(schema);
  const sql = relayStatements(tables);
  const storeSql = storeStatements(tables);
  const owner = `${uuidv7()}`;
  const owned = new Map<number, Lease>();
  const leaseContext: LeaseContext = {
    pool,
    sql,
    relay: name,
    owner,
    leaseTtlMs,
    batchSize: config.batchSize,
  };
  let partitions = 0;
  let epoch = 1;
  const destinations: Destinations = {
    transport: config.transport,
    jobQueues: config.jobQueues,
    acceptedAt: new Map(),
  };
  const context: StepContext = {
    ...leaseContext,
    destinations,
    epoch: () => epoch,
    retry: config.retry,
    crashLimit: config.crashLimit,
    isPoison: config.isPoison,
    logger,
  };
  const wakeups = createWakeups({
    pool,
    channel: config.listen ? notifyChannel(schema) : undefined,
    pollIntervalMs: config.pollIntervalMs,
    logger,
    head: () => guarded('relay: poll', pool, () => headPosition({ db: pool, sql: storeSql, epoch })),
  });
  const unguard = guardPoolErrors(pool, logger);
  const maintainEveryMs = Math.max(100, Math.floor(leaseTtlMs / 3));
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
    ({ partitions, epoch } = await readMeta(leaseContext, schema));
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
        const reported = storeFailure('relay: step', pool, error);
        logger.warn('outbox relay: a step failed; retrying', {
          relay: name,
          attempt: failures,
          error: reported,
        });
        const delay = config.retry.delayMs(failures, asError(reported));
        if (!stopping) await pause(undefined, Date.now() + delay, false);
      }
    }
  }

  function startRenewals(): void {
    renewTimer = setInterval(() => {
      exclusive(() => renew(leaseContext, owned)).catch((error: unknown) => {
        logger.warn('outbox relay: renewing leases failed', {
          relay: name,
          error: storeFailure('relay: renew leases', pool, error),
        });
      });
    }, maintainEveryMs);
    renewTimer.unref?.();
  }

  async function start(): Promise<void> {
    await guarded('relay.start', pool, async () => {
      await loadMeta();
      await run(pool, sql.ensureLeases, [name, partitions]);
      await maintain();
    });
    startRenewals();
    loop = runLoop();
  }

  async function close(closeOptions: { readonly timeoutMs?: number } = {}): Promise<void> {
    closed ??= (async () => {
      const timeoutMs = closeOptions.timeoutMs ?? 10_000;
      const deadline = Date.now() + timeoutMs;
      stopping = true;
      offLocal();
      config.signal?.removeEventListener('abort', onAbort);
      idle?.abort();
      if (renewTimer !== undefined) clearInterval(renewTimer);
      await started?.catch(() => undefined);
      if (loop !== undefined) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const timeout = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, timeoutMs);
        });
        await Promise.race([loop, timeout]);
        clearTimeout(timer);
      }
      // Never started (or start failed before claiming): there is nothing to give back.
      if (loop !== undefined || owned.size > 0) {
        const until = Math.max(deadline, Date.now() + 1_000);
        await exclusive(() => releaseAllBefore(leaseContext, owned, until, config.retry)).catch(
          (error: unknown) => {
            logger.warn(
              `outbox relay: could not give the leases back; other instances take them over after ${leaseTtlMs} ms`,
              {
                relay: name,
                error: storeFailure('relay.close', pool, error),
              },
            );
          },
        );
      }
      await wakeups.close();
      unguard();
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
    parked: parkedEvents({
      pool,
      tables,
      relay: name,
      destinations,
      isPoison: config.isPoison,
    }),
    stats: () => guarded('relay.stats', pool, () => readRelayStats(pool, tables, name, owned)),
    registerMetrics: (metrics, metricsOptions) =>
      registerRelayMetrics(metrics, () => readRelayStats(pool, tables, name, owned), {
        intervalMs: config.statsIntervalMs,
        logger,
        ...metricsOptions,
      }),
    [Symbol.asyncDispose]: () => close(),
  };
}

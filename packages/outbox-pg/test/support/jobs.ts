import type { JobBackend, JobQueue } from '@relaybus/core';
import { createJobQueue, defineJob, memoryJobBackend } from '@relaybus/core';
import type pg from 'pg';
import { z } from 'zod';
import type { PostgresEventStore } from '../../src/index';

/** A job type of the tests. */
export const SendReceipt = defineJob('orders:send_receipt', z.object({ orderId: z.string() }));
/** A job type the relay's queue does not know in some tests (a newer writer enqueued it). */
export const Reindex = defineJob('search:reindex', z.object({ index: z.string() }));

/** One run of a job handler. */
export interface JobRun {
  readonly jobId: string;
  readonly queue: string;
  readonly orderId: string;
}

/** A queue of {@link SendReceipt} over `store` (for `enqueue(..., { transaction })`) and a worker recording runs. */
export interface QueueWithWorker {
  readonly jobs: JobQueue<typeof SendReceipt, pg.ClientBase>;
  /** Every handler run, in order. */
  readonly runs: JobRun[];
}

/**
 * Creates a job queue on the memory backend (or `backend`) with a worker that records each run in `runs`.
 *
 * @example
 * ```ts
 * const { jobs, runs } = queueWithWorker(store);
 * ```
 */
export function queueWithWorker(
  store: PostgresEventStore,
  options: { queue?: string; backend?: JobBackend } = {},
): QueueWithWorker {
  const jobs = createJobQueue({
    jobs: [SendReceipt],
    store,
    backend: options.backend ?? memoryJobBackend(),
    queue: options.queue ?? 'default',
    logger: quiet,
  });
  const runs: JobRun[] = [];
  jobs.work({
    [SendReceipt.type]: ({ orderId }, ctx) => {
      runs.push({ jobId: ctx.jobId, queue: ctx.queue, orderId });
    },
  });
  return { jobs, runs };
}

/**
 * Runs `work` on a client of `pool` inside `BEGIN`, then commits (or rolls back with `end: 'ROLLBACK'`).
 *
 * @example
 * ```ts
 * await inTransaction(pool, (client) => jobs.enqueue(SendReceipt, { orderId: 'o1' }, { transaction: client }));
 * ```
 */
export async function inTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
  end: 'COMMIT' | 'ROLLBACK' = 'COMMIT',
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query(end);
    return result;
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
}

/** A logger that drops everything (expected warnings would only clutter the test output). */
export const quiet = { debug() {}, info() {}, warn() {}, error() {} };

import type { JobBackend, JobPage, JobRecord, JobState, QueueCounts } from '@relaybus/core';
import { ClosedError, consoleLogger, InvalidOptionError } from '@relaybus/core';
import type {
  AddOutcome,
  ClaimedJob,
  ClaimRequest,
  JobFailure,
  LeaseRef,
  NewJob,
} from '@relaybus/core/transport-kit';
import { whenReady } from '../connection';
import { operationError } from '../operation-error';
import { parseScriptArray } from '../replies';
import { cancelJob, countJobs, getJob, listJobs, purgeJobs, retryDeadJobs, setPaused } from './job-admin';
import { encodeNewJob, jsonArg } from './job-codec';
import { checkQueueName, JobKeys } from './job-keys';
import { parseAddOutcomes, parseClaim, parseCount, parseDone, parseWord } from './job-replies';
import { ADD_SCRIPT, TICK_SCRIPT } from './lua/add-scripts';
import { CLAIM_SCRIPT } from './lua/claim-script';
import {
  COMPLETE_SCRIPT,
  EXTEND_SCRIPT,
  FAIL_SCRIPT,
  PROGRESS_SCRIPT,
  RECOVER_SCRIPT,
  RELEASE_SCRIPT,
} from './lua/lease-scripts';
import {
  JOB_LIMITS,
  type RedisJobBackendOptions,
  type ResolvedJobBackendOptions,
  resolveJobBackendOptions,
} from './options';
import { chunks, type QueueContext, runScript } from './queue-context';
import { checkClaim, checkFailure, checkId, checkLease, checkTtl } from './request-checks';
import { idleTtlMs, WakeListener } from './wake-listener';

/**
 * Creates the Redis job backend: the storage behind `createJobQueue` on Redis 6.2 or later, standalone or Cluster.
 * Every state move is one Lua script (EVALSHA, falling back to EVAL) on the server's clock, so any number of workers
 * and schedulers in any number of processes agree; all keys of a queue share one hash tag (`<prefix>:j:{<queue>}`).
 * Idle workers block on a per-queue wake list instead of polling, so a new job starts within a round trip.
 *
 * Usually you do not call it: `redisTransport(...).jobBackend()` returns one on the transport's client and prefix,
 * and `createJobQueue({ transport })` takes it from there.
 *
 * @throws `InvalidOptionError` for a bad option; `IncompatibleClientError` for a client that is not ioredis 5 or 6,
 * or has a `keyPrefix`. Calls reject with `RedisUnavailableError` (code `TRANSPORT_UNAVAILABLE`) when Redis cannot
 * be reached within `connectTimeoutMs`, and with `ClosedError` after `close()`.
 * @example
 * ```ts
 * import { createJobQueue, defineJob } from '@relaybus/core';
 * import { redisJobBackend } from '@relaybus/transport-redis';
 * import { Redis } from 'ioredis';
 * import { z } from 'zod';
 *
 * const SendMail = defineJob('mail:send', z.object({ to: z.string() }));
 * const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
 * const jobs = createJobQueue({ backend: redisJobBackend({ redis, prefix: 'app' }), jobs: [SendMail] });
 * jobs.work({ [SendMail.type]: async ({ to }) => sendMail(to) });
 * await jobs.enqueue(SendMail, { to: 'ada@example.com' });
 * ```
 */
export function redisJobBackend(options: RedisJobBackendOptions): JobBackend {
  return new RedisJobBackend(resolveJobBackendOptions(options));
}

/** One queue as this backend instance knows it. */
interface QueueHandle extends QueueContext {
  readonly listener: WakeListener;
  /** When (by this process's clock) the next scheduled job, retry or rate window falls due, as of the last claim. */
  nextDueAt: number | undefined;
}

const EXTEND_OUTCOMES = ['ok', 'lost', 'cancelled'] as const;

class RedisJobBackend implements JobBackend {
  readonly name = 'redis';
  readonly #options: ResolvedJobBackendOptions;
  readonly #queues = new Map<string, QueueHandle>();
  #closed = false;
  readonly #onAbort = (): void => {
    void this.close();
  };

  constructor(options: ResolvedJobBackendOptions) {
    this.#options = options;
    const { signal } = options;
    if (signal?.aborted === true) void this.close();
    else signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  add(queue: string, jobs: ReadonlyArray<NewJob>): Promise<AddOutcome[]> {
    return this.#run('adding jobs', queue, async (context) => {
      if (!Array.isArray(jobs)) {
        throw new InvalidOptionError('redisJobBackend.add()', 'jobs', 'must be an array');
      }
      // Every job is checked before anything is written; a batch goes out as script calls sent together.
      const args = jobs.map((job) => encodeNewJob(job, 'redisJobBackend.add()'));
      const replies = await Promise.all(
        chunks(args, JOB_LIMITS.addChunk).map((chunk) =>
          runScript(context, ADD_SCRIPT, [chunk.length, ...chunk.flat()]),
        ),
      );
      return replies.flatMap(parseAddOutcomes);
    });
  }

  claim(request: ClaimRequest): Promise<ClaimedJob[]> {
    return this.#run('claiming jobs', request?.queue, async (context) => {
      const args = [...checkClaim(request), idleTtlMs(this.#options.blockMs)];
      const reply = await runScript(context, CLAIM_SCRIPT, args);
      const { nextDueInMs, jobs } = parseClaim(context.queue, reply);
      context.nextDueAt = nextDueInMs === undefined ? undefined : Date.now() + nextDueInMs;
      return jobs;
    });
  }

  wait(queue: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.#closed || signal?.aborted === true) return Promise.resolve();
    let handle: QueueHandle;
    try {
      handle = this.#queue(queue, 'wait');
    } catch (error) {
      return Promise.reject(error);
    }
    const untilDue = handle.nextDueAt === undefined ? timeoutMs : handle.nextDueAt - Date.now();
    return handle.listener.wait(Math.min(timeoutMs, untilDue), signal);
  }

  extend(
    queue: string,
    leases: ReadonlyArray<LeaseRef>,
    leaseTtlMs: number,
  ): Promise<Array<'ok' | 'lost' | 'cancelled'>> {
    return this.#run('renewing leases', queue, async (context) => {
      const where = 'redisJobBackend.extend()';
      if (leases.length === 0) return [];
      const args = leases.flatMap((lease) => checkLease(lease, where));
      const reply = await runScript(context, EXTEND_SCRIPT, [checkTtl(leaseTtlMs, where), ...args]);
      return parseScriptArray('extend', reply).map((outcome) =>
        parseWord('extend', outcome, EXTEND_OUTCOMES),
      );
    });
  }

  progress(queue: string, lease: LeaseRef, value: unknown): Promise<boolean> {
    return this.#lease('storing progress', queue, lease, PROGRESS_SCRIPT, () => [
      jsonArg(value, 'redisJobBackend.progress()', 'value'),
    ]);
  }

  complete(queue: string, lease: LeaseRef, result: unknown, retainMs: number): Promise<boolean> {
    return this.#lease('completing a job', queue, lease, COMPLETE_SCRIPT, () => [
      jsonArg(result, 'redisJobBackend.complete()', 'result'),
      Math.max(0, Math.round(Number.isFinite(retainMs) ? retainMs : 0)),
    ]);
  }

  fail(queue: string, lease: LeaseRef, failure: JobFailure): Promise<boolean> {
    return this.#lease('failing a job', queue, lease, FAIL_SCRIPT, () => checkFailure(failure));
  }

  release(queue: string, lease: LeaseRef): Promise<boolean> {
    return this.#lease('releasing a job', queue, lease, RELEASE_SCRIPT, () => []);
  }

  recover(queue: string): Promise<number> {
    return this.#run('recovering expired leases', queue, async (context) =>
      parseCount('recover', await runScript(context, RECOVER_SCRIPT, [JOB_LIMITS.recoverBatch])),
    );
  }

  counts(queue: string): Promise<QueueCounts> {
    return this.#run('counting jobs', queue, countJobs);
  }

  list(
    queue: string,
    request: { readonly state: JobState; readonly limit: number; readonly after?: string },
  ): Promise<JobPage> {
    return this.#run('listing jobs', queue, (context) => listJobs(context, request));
  }

  get(queue: string, id: string): Promise<JobRecord | undefined> {
    return this.#run('reading a job', queue, (context) => getJob(context, checkId(id, 'get')));
  }

  cancel(queue: string, id: string): Promise<'cancelled' | 'cancelling' | 'finished' | 'not-found'> {
    return this.#run('cancelling a job', queue, (context) => cancelJob(context, checkId(id, 'cancel')));
  }

  retryDead(queue: string, ids: ReadonlyArray<string> | 'all'): Promise<number> {
    return this.#run('retrying dead jobs', queue, (context) => retryDeadJobs(context, ids));
  }

  purge(
    queue: string,
    request: { readonly state: 'completed' | 'dead'; readonly ids?: ReadonlyArray<string> },
  ): Promise<number> {
    return this.#run('purging jobs', queue, (context) => purgeJobs(context, request));
  }

  pause(queue: string): Promise<void> {
    return this.#run('pausing the queue', queue, (context) => setPaused(context, true));
  }

  resume(queue: string): Promise<void> {
    return this.#run('resuming the queue', queue, (context) => setPaused(context, false));
  }

  enqueueTick(
    queue: string,
    tick: { readonly schedule: string; readonly at: number; readonly job: NewJob },
  ): Promise<boolean> {
    return this.#run('enqueueing a schedule tick', queue, async (context) => {
      const where = 'redisJobBackend.enqueueTick()';
      const schedule = checkId(tick.schedule, 'enqueueTick', 'schedule');
      if (!Number.isSafeInteger(tick.at)) {
        throw new InvalidOptionError(where, 'at', `must be an integer epoch ms, got ${String(tick.at)}`);
      }
      const job = encodeNewJob(tick.job, where);
      return parseDone('tick', await runScript(context, TICK_SCRIPT, [schedule, tick.at, ...job]));
    });
  }

  lastTick(queue: string, schedule: string): Promise<number | undefined> {
    return this.#run('reading the last tick', queue, async (context) => {
      const last = await context.redis.hget(context.keys.ticks, checkId(schedule, 'lastTick', 'schedule'));
      return last === null ? undefined : Number(last);
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#options.signal?.removeEventListener('abort', this.#onAbort);
    for (const handle of this.#queues.values()) handle.listener.close();
  }

  /** Runs a lease script: id and token first, then `args()`; whether the lease was still the job's. */
  #lease(
    doing: string,
    queue: string,
    lease: LeaseRef,
    script: Parameters<typeof runScript>[1],
    args: () => ReadonlyArray<string | number>,
  ): Promise<boolean> {
    return this.#run(doing, queue, async (context) => {
      const ref = checkLease(lease, `redisJobBackend: ${doing}`);
      return parseDone(doing, await runScript(context, script, [...ref, ...args()]));
    });
  }

  /**
   * Runs an operation on a queue: refused after close; bad input thrown as it is; Redis unreachable within
   * `connectTimeoutMs` (or lost on the way) as `RedisUnavailableError`; any other failure as a `TransportError`.
   */
  async #run<T>(doing: string, queue: string, operation: (context: QueueHandle) => Promise<T>): Promise<T> {
    const context = this.#queue(queue, doing);
    const { redis, connectTimeoutMs } = this.#options;
    try {
      await whenReady(redis, connectTimeoutMs);
      return await operation(context);
    } catch (error) {
      throw operationError(`${doing} of queue "${queue}"`, error, redis);
    }
  }

  #queue(queue: string, doing: string): QueueHandle {
    if (this.#closed) throw new ClosedError('the redis job backend', doing);
    let handle = this.#queues.get(queue);
    if (handle === undefined) {
      checkQueueName(queue, 'redisJobBackend');
      const { redis, prefix, blockMs, connectTimeoutMs, logger } = this.#options;
      const keys = new JobKeys(prefix, queue);
      const listener = new WakeListener({
        redis,
        key: keys.wake,
        idleKey: keys.idle,
        queue,
        blockMs,
        connectTimeoutMs,
        logger: logger ?? consoleLogger,
      });
      handle = { redis, queue, keys, listener, nextDueAt: undefined };
      this.#queues.set(queue, handle);
    }
    return handle;
  }
}

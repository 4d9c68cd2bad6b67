import {
  createJobQueue,
  defineJob,
  type JobBackend,
  type JobQueueOptions,
  silentLogger,
} from '@relaybus/core';
import { redisJobBackend } from '@relaybus/transport-redis';
import { benchSchema, payload } from '../core/bench-event';
import { connect } from '../redis/connection';
import {
  type BenchJob,
  type BenchQueue,
  JOB_TYPE,
  type JobSystem,
  QUEUE,
  type QueueSetup,
} from './job-system';

/** The contender's name in tables and goals. */
export const RELAYBUS_NAME = 'relaybus';

/** The job every run enqueues: the same `{ id, name }` payload the event benchmarks publish, validated by zod. */
export const BenchJobDefinition = defineJob(JOB_TYPE, benchSchema);

type Options = JobQueueOptions<[typeof BenchJobDefinition]>;

/**
 * relaybus jobs on `redisJobBackend`: `createJobQueue` with `enqueue` / `enqueueMany` and `work`, payloads
 * validated on enqueue and before the handler. Each client has its own ioredis connection (plus the backend's
 * blocking one, opened by an idle worker).
 */
export const relaybusJobs: JobSystem = {
  name: RELAYBUS_NAME,
  hasGroups: true,
  async open(setup) {
    const redis = connect();
    await redis.ping();
    let onCompleted: (() => void) | undefined;
    const backend = observeCompletions(redisJobBackend({ redis, prefix: setup.prefix }), () =>
      onCompleted?.(),
    );
    const jobs = createJobQueue({ ...queueOptions(setup), backend });
    const toItem = (job: BenchJob) => ({
      job: BenchJobDefinition,
      payload: payload(job.id),
      ...(job.group === undefined ? {} : { options: { group: job.group } }),
    });
    const queue: BenchQueue = {
      async enqueue(job) {
        await jobs.enqueue(
          BenchJobDefinition,
          payload(job.id),
          job.group === undefined ? {} : { group: job.group },
        );
      },
      async enqueueMany(batch) {
        await jobs.enqueueMany(batch.map(toItem));
      },
      pause: () => jobs.pause(),
      resume: () => jobs.resume(),
      async work(work) {
        onCompleted = work.onCompleted;
        const worker = jobs.work(
          { [JOB_TYPE]: (job) => work.handle(job.id) },
          work.concurrency === undefined ? {} : { concurrency: work.concurrency },
        );
        return { close: () => worker.close() };
      },
      async close() {
        await jobs.close({ timeoutMs: 5_000 });
        await backend.close();
        redis.disconnect();
      },
    };
    return queue;
  },
};

function queueOptions(setup: QueueSetup): Omit<Options, 'backend'> {
  return {
    jobs: [BenchJobDefinition],
    queue: QUEUE,
    logger: silentLogger,
    ...(setup.config === 'bench' ? { retainCompletedMs: 0 } : {}),
    ...(setup.groups === true ? { groups: { concurrency: 1 } } : {}),
  };
}

/**
 * The backend, with `onCompleted` called once a completion was written: the moment BullMQ's worker emits
 * `completed`. Every other call goes straight to the backend.
 */
function observeCompletions(backend: JobBackend, onCompleted: () => void): JobBackend {
  const complete: JobBackend['complete'] = async (...args) => {
    const done = await backend.complete(...args);
    if (done) onCompleted();
    return done;
  };
  const bound = new Map<PropertyKey, unknown>([['complete', complete]]);
  return new Proxy(backend, {
    get(target, key) {
      if (bound.has(key)) return bound.get(key);
      const value: unknown = Reflect.get(target, key, target);
      if (typeof value !== 'function') return value;
      const method = value.bind(target);
      bound.set(key, method);
      return method;
    },
  });
}

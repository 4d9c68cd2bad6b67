import { ClosedError, DuplicateJobError, InvalidOptionError, toError, ValidationError } from '../errors';
import { buildEnvelope, toIssues } from '../events/define-event';
import type { Envelope } from '../events/envelope';
import { consoleLogger } from '../logger';
import type { MetricsMiddleware } from '../middleware/metrics';
import type { EventStore } from '../store/event-store';
import type { AddOutcome, JobBackend, NewJob } from './backend';
import type { AnyJobDefinition } from './define-job';
import { JobCatalog } from './job-catalog';
import { JobEventHub } from './job-events';
import { registerJobMetrics } from './job-metrics';
import { buildNewJob, JOB_DEFAULTS, resolveQueueOptions } from './job-options';
import { Scheduler, type SchedulerHost } from './job-scheduler';
import { Worker, type WorkerHost } from './job-worker';
import { memoryJobBackend } from './memory/memory-job-backend';
import { JOB_ENQUEUED_EVENT, readOutboxJob } from './outbox-jobs';
import type {
  EnqueueItem,
  EnqueueOptions,
  EnqueueResult,
  JobHandlers,
  JobQueue,
  JobQueueOptions,
  SchedulerOptions,
  WorkOptions,
} from './types';

/**
 * Creates a job queue over a backend: typed `enqueue` validated against each job's schema, workers with leases,
 * heartbeats, timeouts, retries with backoff and graceful shutdown, periodic jobs, inspection and the dead list.
 * With an outbox `store`, `enqueue(..., { transaction })` enqueues inside your database transaction.
 *
 * @throws `InvalidOptionError` when an option or the catalog is malformed.
 * @example
 * ```ts
 * import { createJobQueue, defineJob } from '@relaybus/core';
 * import { z } from 'zod';
 *
 * const Recalc = defineJob('tasks:recalculate_critical_path', z.object({ projectId: z.string() }));
 * const jobs = createJobQueue({ jobs: [Recalc], groups: { concurrency: 1 } });
 * jobs.work({ [Recalc.type]: async ({ projectId }, ctx) => recalculate(projectId, ctx.signal) });
 * await jobs.enqueue(Recalc, { projectId: 'p1' }, { group: 'p1' });
 * ```
 */
export function createJobQueue<const TJobs extends ReadonlyArray<AnyJobDefinition>, TTransaction = never>(
  options: JobQueueOptions<TJobs, TTransaction>,
): JobQueue<TJobs[number], TTransaction> {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError('createJobQueue', 'options', 'must be an object with at least { jobs }');
  }
  const catalog = new JobCatalog(options.jobs);
  const resolved = resolveQueueOptions(options as JobQueueOptions<ReadonlyArray<AnyJobDefinition>, unknown>);
  const ownsBackend = options.backend === undefined && options.transport?.jobBackend === undefined;
  const backend: JobBackend = options.backend ?? options.transport?.jobBackend?.() ?? memoryJobBackend();
  const logger = options.logger ?? consoleLogger;
  const events = new JobEventHub();
  const store = options.store as EventStore<unknown> | undefined;
  const workers = new Set<Worker>();
  const schedulers = new Set<Scheduler>();
  const queue = resolved.queue;
  let closed = false;

  async function build(
    definition: AnyJobDefinition,
    payload: unknown,
    enqueueOptions: EnqueueOptions<unknown>,
    now: number,
  ): Promise<NewJob> {
    const result = await definition.schema['~standard'].validate(payload);
    if (result.issues !== undefined)
      throw new ValidationError(definition.type, toIssues(result.issues), { subject: 'job' });
    return buildNewJob(definition, result.value, enqueueOptions, { queue: resolved, now });
  }

  async function prepare(
    items: ReadonlyArray<{ job: unknown; payload: unknown; options?: EnqueueOptions<unknown> }>,
  ): Promise<NewJob[]> {
    if (closed) throw new ClosedError(`job queue "${queue}"`, 'enqueue');
    const now = Date.now();
    return Promise.all(
      items.map((item) =>
        build(catalog.require(item.job, 'in enqueue()'), item.payload, item.options ?? {}, now),
      ),
    );
  }

  async function add(jobs: NewJob[], transaction: unknown): Promise<EnqueueResult[]> {
    if (transaction !== undefined) return appendToOutbox(jobs, transaction);
    const outcomes = await backend.add(queue, jobs);
    return outcomes.map((outcome, index) => toResult(outcome, jobs[index] as NewJob));
  }

  function toResult(outcome: AddOutcome, job: NewJob): EnqueueResult {
    if (outcome.status === 'duplicate') throw new DuplicateJobError(queue, outcome.id);
    if (outcome.status === 'added') events.enqueued(job);
    return { id: outcome.id, status: outcome.status === 'added' ? 'enqueued' : outcome.status };
  }

  async function appendToOutbox(jobs: NewJob[], transaction: unknown): Promise<EnqueueResult[]> {
    if (store === undefined || store.outbox !== true) {
      throw new InvalidOptionError(
        `enqueue() on queue "${queue}"`,
        'transaction',
        'needs an outbox store: createJobQueue({ store: postgresEventStore(...) }), whose relay hands the job to the queue once your transaction commits',
      );
    }
    for (const job of jobs) {
      // Keyed by group, so the relay hands a group's jobs over in the order they were enqueued.
      const envelope = buildEnvelope(JOB_ENQUEUED_EVENT, 1, { queue, job }, job.group, {}, 'relaybus/jobs');
      await store.append(`job-${queue}-${job.id}`, [envelope], { transaction });
    }
    return jobs.map((job) => ({ id: job.id, status: 'outbox' as const }));
  }

  const host: WorkerHost & SchedulerHost = { backend, catalog, options: resolved, logger, events, build };

  const jobQueue = {
    name: queue,
    backend,
    async enqueue(job: unknown, payload: unknown, enqueueOptions: EnqueueOptions<unknown> = {}) {
      const [newJob] = await prepare([{ job, payload, options: enqueueOptions }]);
      const [result] = await add([newJob as NewJob], enqueueOptions.transaction);
      return result as EnqueueResult;
    },
    async enqueueMany(
      items: ReadonlyArray<EnqueueItem<AnyJobDefinition, unknown>>,
      manyOptions: { transaction?: unknown } = {},
    ) {
      if (!Array.isArray(items))
        throw new InvalidOptionError(
          'enqueueMany()',
          'items',
          'must be an array of { job, payload, options? }',
        );
      if (items.length === 0) return [];
      return add(await prepare(items), manyOptions.transaction);
    },
    async receiveFromOutbox(event: Envelope): Promise<EnqueueResult> {
      const job = readOutboxJob(event, queue, catalog);
      const [outcome] = await backend.add(queue, [job]);
      // A relay may hand the same event over again: the job is then already there.
      if (outcome === undefined || outcome.status === 'duplicate') return { id: job.id, status: 'enqueued' };
      return toResult(outcome, job);
    },
    work(handlers: JobHandlers<AnyJobDefinition>, workOptions: WorkOptions = {}) {
      if (closed) throw new ClosedError(`job queue "${queue}"`, 'work');
      checkHandlers(catalog, handlers, workOptions, logger, queue);
      const worker: Worker = new Worker(host, handlers as JobHandlers<never>, workOptions, (done) =>
        workers.delete(done),
      );
      workers.add(worker);
      return worker;
    },
    scheduler(schedulerOptions: SchedulerOptions = {}) {
      if (closed) throw new ClosedError(`job queue "${queue}"`, 'scheduler');
      const scheduler: Scheduler = new Scheduler(host, schedulerOptions, (done) => schedulers.delete(done));
      schedulers.add(scheduler);
      return scheduler;
    },
    inspect: () => backend.counts(queue),
    list: (request: { state: Parameters<JobBackend['list']>[1]['state']; limit?: number; after?: string }) =>
      backend.list(queue, {
        state: request.state,
        limit: pageSize(request.limit),
        ...(request.after === undefined ? {} : { after: request.after }),
      }),
    get: (id: string) => backend.get(queue, id),
    cancel: (id: string) => backend.cancel(queue, id),
    pause: () => backend.pause(queue),
    resume: () => backend.resume(queue),
    dead: {
      list: (request: { limit?: number; after?: string } = {}) =>
        backend.list(queue, {
          state: 'dead',
          limit: pageSize(request.limit),
          ...(request.after === undefined ? {} : { after: request.after }),
        }),
      retry: (ids: string | ReadonlyArray<string>) =>
        backend.retryDead(queue, typeof ids === 'string' ? [ids] : ids),
      retryAll: () => backend.retryDead(queue, 'all'),
      purge: (ids?: ReadonlyArray<string>) =>
        backend.purge(queue, { state: 'dead', ...(ids === undefined ? {} : { ids }) }),
    },
    purgeCompleted: (ids?: ReadonlyArray<string>) =>
      backend.purge(queue, { state: 'completed', ...(ids === undefined ? {} : { ids }) }),
    registerMetrics(metrics: MetricsMiddleware, metricsOptions: { intervalMs?: number } = {}) {
      return registerJobMetrics(metrics, events, () => backend.counts(queue), {
        queue,
        logger,
        ...metricsOptions,
      });
    },
    async close(closeOptions: { timeoutMs?: number } = {}) {
      if (closed) return;
      closed = true;
      const timeoutMs = closeOptions.timeoutMs ?? JOB_DEFAULTS.closeTimeoutMs;
      await Promise.all([...workers].map((worker) => worker.close({ timeoutMs })));
      await Promise.all([...schedulers].map((scheduler) => scheduler.close()));
      if (ownsBackend) await backend.close();
    },
    [Symbol.asyncDispose]() {
      return jobQueue.close();
    },
  };
  return jobQueue as unknown as JobQueue<TJobs[number], TTransaction>;
}

function pageSize(limit: number | undefined): number {
  const size = limit ?? 100;
  if (!Number.isSafeInteger(size) || size < 1 || size > 10_000) {
    throw new InvalidOptionError(
      'list()',
      'limit',
      `must be an integer from 1 to 10000, got ${String(limit)}`,
    );
  }
  return size;
}

function checkHandlers(
  catalog: JobCatalog,
  handlers: JobHandlers<AnyJobDefinition>,
  options: WorkOptions,
  logger: { warn(message: string, fields?: Record<string, unknown>): void },
  queue: string,
): void {
  if (handlers === null || typeof handlers !== 'object') {
    throw new InvalidOptionError('work()', 'handlers', 'must be an object of handlers keyed by job type');
  }
  for (const [type, handler] of Object.entries(handlers)) {
    if (catalog.get(type) === undefined) catalog.require(type, 'in work() handlers');
    if (typeof handler !== 'function')
      throw new InvalidOptionError('work()', `handlers["${type}"]`, 'must be a function');
  }
  const concurrency = options.concurrency ?? JOB_DEFAULTS.concurrency;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw new InvalidOptionError(
      'work()',
      'concurrency',
      `must be an integer >= 1, got ${String(options.concurrency)}`,
    );
  }
  const missing = catalog.types.filter((type) => !(type in handlers));
  if (missing.length > 0) {
    logger.warn(
      `job worker on queue "${queue}" has no handler for ${missing.map((t) => `"${t}"`).join(', ')}: such jobs it claims go to the dead list (NO_HANDLER). Give each worker pool its own queue.`,
    );
  }
  void toError;
}

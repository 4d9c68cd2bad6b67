import { serializeError } from '../bus/attempt';
import { resolveRetry } from '../bus/retry';
import {
  HandlerTimeoutError,
  InvalidOptionError,
  NonRetryableError,
  RelaybusError,
  toError,
  UnknownJobError,
  ValidationError,
} from '../errors';
import { toIssues } from '../events/define-event';
import type { Logger } from '../logger';
import type { ClaimedJob, JobFailure, JobFailureOutcome, LeaseRef } from './backend';
import type { AnyJobDefinition } from './define-job';
import type { WorkerHost } from './job-worker';
import type { JobContext, JobHandlers } from './types';

/** What a run needs from its worker. */
export interface RunHost {
  readonly host: WorkerHost;
  readonly handlers: JobHandlers<never>;
  readonly logger: Logger;
  ended(run: JobRun): void;
}

type Handler = (payload: unknown, ctx: JobContext) => unknown;

/**
 * One attempt of one claimed job: validates the payload, runs the handler with a context and a timeout, and
 * reports the outcome to the backend exactly once. Once the outcome is reported, or the lease is lost, or the job
 * is handed back on shutdown, whatever the handler does later changes nothing.
 */
export class JobRun {
  /** Resolves once the outcome is reported (or the job handed back or lost), whatever the handler still does. */
  readonly settled: Promise<void>;
  private resolveSettled: () => void = () => {};
  private readonly controller = new AbortController();
  private done = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly startedAt = Date.now();

  constructor(
    private readonly worker: RunHost,
    readonly job: ClaimedJob,
  ) {
    this.settled = new Promise((resolve) => {
      this.resolveSettled = resolve;
    });
  }

  /** Whether this run still holds the job's lease (it has not reported, lost it, or handed the job back). */
  get holdsLease(): boolean {
    return !this.done;
  }

  get lease(): LeaseRef {
    return { id: this.job.id, token: this.job.lease.token };
  }

  start(): void {
    this.worker.host.events.started(this.job);
    this.execute().catch((error: unknown) => {
      this.worker.logger.error(
        `job ${this.job.id} ("${this.job.type}"): the run failed unexpectedly; its lease expires and it runs again`,
        { error },
      );
      this.finish();
      this.resolveSettled();
    });
  }

  /** Another worker may hold the job now: abort, and report nothing. */
  leaseLost(): void {
    if (this.done) return;
    this.worker.logger.warn(
      `job ${this.job.id} ("${this.job.type}"): its lease was lost (renewals failed for too long); aborting it without reporting, as another worker may run it`,
    );
    this.finish(
      new RelaybusError('CLOSED', `job ${this.job.id}: the lease was lost; another worker may run the job`),
    );
    this.resolveSettled();
  }

  /** `cancel()` was asked for: abort, and drop the job. */
  cancelled(): void {
    if (this.done) return;
    const reason = new NonRetryableError(`job ${this.job.id} was cancelled while it ran`);
    this.controller.abort(reason);
    void this.report('error', reason, { kind: 'drop' });
  }

  /** Shutdown: abort, and hand the job back without counting an attempt. */
  async handBack(): Promise<void> {
    if (this.done) return;
    this.finish(
      new RelaybusError(
        'CLOSED',
        `job ${this.job.id}: the worker closed before the handler settled; handed back`,
      ),
    );
    const { backend, options } = this.worker.host;
    await this.settle('hand back', backend.release(options.queue, this.lease));
  }

  private async execute(): Promise<void> {
    const { catalog } = this.worker.host;
    const definition = catalog.get(this.job.type);
    const handler = (this.worker.handlers as Record<string, Handler | undefined>)[this.job.type];
    if (definition === undefined || handler === undefined) {
      const error =
        definition === undefined
          ? new UnknownJobError(this.job.type, catalog.types, `claimed from queue "${this.job.queue}"`)
          : new NonRetryableError(
              `no handler for job type "${this.job.type}" in this worker; a worker must handle every type its queue receives`,
            );
      await this.report('error', error, { kind: 'dead', reason: 'NO_HANDLER' });
      return;
    }
    let payload: unknown;
    try {
      payload = await validatePayload(definition, this.job.payload);
    } catch (error) {
      await this.report('error', toError(error, this.job.type), { kind: 'dead', reason: 'NON_RETRYABLE' });
      return;
    }
    this.timer = setTimeout(() => this.expire(), this.job.timeoutMs);
    let thrown: unknown;
    let failed = false;
    let result: unknown;
    try {
      result = await handler(payload, this.context());
    } catch (error) {
      failed = true;
      thrown = error;
    }
    if (this.done) return;
    if (failed) {
      await this.report('error', toError(thrown, this.job.type));
    } else {
      await this.complete(result);
    }
  }

  private context(): JobContext {
    const { job } = this;
    const { backend, options, logger } = this.worker.host;
    return {
      jobId: job.id,
      type: job.type,
      queue: job.queue,
      attempt: job.failures + 1,
      maxAttempts: job.maxAttempts,
      group: job.group,
      enqueuedAt: job.enqueuedAt,
      signal: this.controller.signal,
      logger,
      progress: async (value) => {
        if (this.done) return;
        const stored = jsonSafe(value, (error) => {
          throw new InvalidOptionError(
            `ctx.progress() of job ${job.id}`,
            'value',
            `must be JSON-safe (it is stored with the job): ${(error as Error).message}`,
          );
        });
        await backend.progress(options.queue, this.lease, stored);
      },
    };
  }

  private expire(): void {
    if (this.done) return;
    const error = new HandlerTimeoutError(this.job.type, this.job.timeoutMs);
    this.controller.abort(error);
    void this.report('timeout', error);
  }

  private async complete(result: unknown): Promise<void> {
    const { backend, options, events } = this.worker.host;
    this.finish();
    const stored = jsonSafe(result, (error) =>
      this.worker.logger.warn(
        `job ${this.job.id} ("${this.job.type}"): its result cannot be stored as JSON and is dropped`,
        { error },
      ),
    );
    const ok = await this.settle(
      'complete',
      backend.complete(options.queue, this.lease, stored, options.retainCompletedMs),
    );
    if (ok === true) events.completed(this.job, this.seconds());
    else if (ok === false) this.lost('completed');
  }

  /** Reports a failed attempt; the outcome follows from the error and the attempts left unless given. */
  private async report(kind: JobFailure['kind'], error: Error, given?: JobFailureOutcome): Promise<void> {
    if (this.done) return;
    this.finish(error);
    const { backend, options, events } = this.worker.host;
    const outcome = given ?? this.outcomeOf(error);
    const ok = await this.settle(
      'fail',
      backend.fail(options.queue, this.lease, { kind, error: serializeError(error), outcome }),
    );
    if (ok !== true) {
      if (ok === false) this.lost('failed');
      return;
    }
    const code = RelaybusError.is(error) ? error.code : error.name;
    events.failed(this.job, this.seconds(), code, outcome.kind);
    const fields = { id: this.job.id, type: this.job.type, attempt: this.job.failures + 1, error };
    if (outcome.kind === 'dead') this.worker.logger.error(`job dead (${outcome.reason})`, fields);
    else if (outcome.kind === 'retry')
      this.worker.logger.warn(
        `job failed; retrying in ${Math.max(0, outcome.runAt - Date.now())} ms`,
        fields,
      );
  }

  private outcomeOf(error: Error): JobFailureOutcome {
    if (error instanceof NonRetryableError || error instanceof ValidationError)
      return { kind: 'dead', reason: 'NON_RETRYABLE' };
    const attempt = this.job.failures + 1;
    if (attempt >= this.job.maxAttempts) return { kind: 'dead', reason: 'MAX_ATTEMPTS' };
    const hinted = (error as { retryAfterMs?: unknown }).retryAfterMs;
    const delayMs =
      typeof hinted === 'number' && Number.isFinite(hinted) && hinted >= 0
        ? hinted
        : this.backoffMs(attempt, error);
    return { kind: 'retry', runAt: Date.now() + Math.round(delayMs) };
  }

  private backoffMs(attempt: number, error: Error): number {
    const defined = this.worker.host.catalog.get(this.job.type)?.defaults.backoff;
    if (typeof defined === 'function')
      return resolveRetry('job', { backoff: defined }).delayMs(attempt, error);
    return resolveRetry('job', { backoff: { ...defined, ...this.job.backoff } }).delayMs(attempt, error);
  }

  /** Awaits a call that reports the outcome, then resolves `settled`; a failed call is logged (the lease expires). */
  private async settle<T>(action: string, call: Promise<T>): Promise<T | undefined> {
    try {
      return await call;
    } catch (error) {
      this.worker.logger.error(
        `job ${this.job.id} ("${this.job.type}"): could not ${action} it; its lease expires and it runs again`,
        { error },
      );
      return undefined;
    } finally {
      this.resolveSettled();
    }
  }

  private lost(what: string): void {
    this.worker.logger.warn(
      `job ${this.job.id} ("${this.job.type}"): not marked ${what}, because its lease had passed to another worker (or the job was cancelled)`,
    );
  }

  private finish(reason?: Error): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.timer);
    if (reason !== undefined && !this.controller.signal.aborted) this.controller.abort(reason);
    this.worker.ended(this);
  }

  private seconds(): number {
    return (Date.now() - this.startedAt) / 1_000;
  }
}

async function validatePayload(definition: AnyJobDefinition, payload: unknown): Promise<unknown> {
  const result = await definition.schema['~standard'].validate(payload);
  if (result.issues !== undefined) {
    throw new ValidationError(definition.type, toIssues(result.issues), { subject: 'job' });
  }
  return result.value;
}

/** A value as it survives JSON (what a durable backend would store), or `undefined` when it cannot. */
function jsonSafe(value: unknown, onError: (error: unknown) => void): unknown {
  if (value === undefined) return undefined;
  try {
    const text = JSON.stringify(value);
    return text === undefined ? undefined : JSON.parse(text);
  } catch (error) {
    onError(error);
    return undefined;
  }
}

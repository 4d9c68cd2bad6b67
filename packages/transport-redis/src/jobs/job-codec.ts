import {
  InvalidOptionError,
  JOB_PRIORITIES,
  JOB_STATES,
  type JobAttemptError,
  type JobPriority,
  type JobRecord,
  type JobState,
  TransportError,
} from '@relaybus/core';
import type { NewJob } from '@relaybus/core/transport-kit';
import { JOB_ARGS } from './lua/add-scripts';

/** An optional script argument: '' when absent, else '=' and the value (so that an empty value stays a value). */
export function optionalArg(value: string | undefined): string {
  return value === undefined ? '' : `=${value}`;
}

/**
 * A value as an optional script argument holding its JSON text: absent for `undefined` (and for what has no JSON
 * form, such as a function, as `JSON.stringify` has it).
 *
 * @throws `InvalidOptionError` naming `where` and `field` when it cannot be serialised (a cycle, a BigInt).
 */
export function jsonArg(value: unknown, where: string, field: string): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new InvalidOptionError(where, field, `must be JSON-serialisable to be stored in Redis (${detail})`);
  }
  return optionalArg(text);
}

function finite(value: unknown, where: string, field: string): string {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidOptionError(where, field, `must be a finite number, got ${String(value)}`);
  }
  return String(Math.round(value));
}

const PRIORITIES: ReadonlySet<unknown> = new Set(JOB_PRIORITIES);

/**
 * The {@link JOB_ARGS} script arguments of a job for `add` and `enqueueTick`. Checks what would corrupt the
 * queue's keys if wrong (the queue validates everything else before it calls the backend).
 *
 * @throws `InvalidOptionError` naming the job's field.
 */
export function encodeNewJob(job: NewJob, where: string): string[] {
  if (typeof job !== 'object' || job === null) {
    throw new InvalidOptionError(where, 'job', 'must be a job object as the queue builds it');
  }
  const at = (field: string): string => `job "${String(job.id)}".${field}`;
  if (typeof job.id !== 'string' || job.id.length === 0) {
    throw new InvalidOptionError(where, 'job.id', 'must be a non-empty string');
  }
  if (typeof job.type !== 'string') throw new InvalidOptionError(where, at('type'), 'must be a string');
  if (!PRIORITIES.has(job.priority)) {
    throw new InvalidOptionError(where, at('priority'), `must be one of ${JOB_PRIORITIES.join(', ')}`);
  }
  if (job.group !== undefined && typeof job.group !== 'string') {
    throw new InvalidOptionError(where, at('group'), 'must be a string');
  }
  const { unique } = job;
  const args = [
    job.id,
    job.type,
    jsonArg(job.payload, where, at('payload')),
    job.priority,
    optionalArg(job.group),
    finite(job.runAt, where, at('runAt')),
    finite(job.enqueuedAt, where, at('enqueuedAt')),
    finite(job.maxAttempts, where, at('maxAttempts')),
    finite(job.maxCrashes, where, at('maxCrashes')),
    finite(job.timeoutMs, where, at('timeoutMs')),
    jsonArg(job.backoff, where, at('backoff')),
    optionalArg(unique?.key),
    unique === undefined ? '0' : String(Math.max(1, Number(finite(unique.ttlMs, where, at('unique.ttlMs'))))),
    unique?.mode === 'debounce' ? 'debounce' : 'dedupe',
  ];
  if (args.length !== JOB_ARGS)
    throw new Error(`encodeNewJob wrote ${args.length} arguments, not ${JOB_ARGS}`);
  return args;
}

const STATES: ReadonlySet<unknown> = new Set(JOB_STATES);

/** Reads the fields of one stored job, failing loudly on a field that is not what the scripts write. */
class StoredFields {
  constructor(
    private readonly queue: string,
    private readonly fields: ReadonlyMap<string, string>,
  ) {}

  text(field: string): string {
    const value = this.fields.get(field);
    if (value === undefined) throw this.malformed(field, 'is missing');
    return value;
  }

  optionalText(field: string): string | undefined {
    return this.fields.get(field);
  }

  number(field: string): number {
    const value = Number(this.text(field));
    if (!Number.isFinite(value)) throw this.malformed(field, `is not a number (${this.text(field)})`);
    return value;
  }

  optionalNumber(field: string): number | undefined {
    return this.fields.has(field) ? this.number(field) : undefined;
  }

  json(field: string): unknown {
    const text = this.fields.get(field);
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw this.malformed(field, 'is not valid JSON');
    }
  }

  errors(): JobAttemptError[] {
    const text = this.fields.get('errors');
    if (text === undefined || text === '') return [];
    try {
      return text.split('\n').map((entry) => JSON.parse(entry) as JobAttemptError);
    } catch {
      throw this.malformed('errors', 'is not a list of JSON entries');
    }
  }

  malformed(field: string, problem: string): TransportError {
    const id = this.fields.get('id') ?? '?';
    return new TransportError(
      'redis',
      `job "${id}" of queue "${this.queue}" has a field "${field}" that ${problem}; it was not written by this version of the Redis job backend. Purge or cancel the job.`,
    );
  }
}

/**
 * A stored job as a {@link JobRecord}.
 *
 * @throws `TransportError` naming the job and the field when the hash is not one the scripts wrote.
 */
export function decodeJob(queue: string, fields: ReadonlyMap<string, string>): JobRecord {
  const stored = new StoredFields(queue, fields);
  const state = stored.text('state');
  if (!STATES.has(state)) throw stored.malformed('state', `is not a job state (${state})`);
  const priority = stored.text('priority');
  if (!PRIORITIES.has(priority)) throw stored.malformed('priority', `is not a priority (${priority})`);
  const id = stored.text('id');
  const group = stored.optionalText('group');
  const backoff = stored.json('backoff');
  const uniqueKey = stored.optionalText('uniqueKey');
  const startedAt = stored.optionalNumber('startedAt');
  const finishedAt = stored.optionalNumber('finishedAt');
  const deadReason = stored.optionalText('deadReason');
  const token = stored.optionalText('token');
  return {
    id,
    type: stored.text('type'),
    payload: stored.json('payload'),
    priority: priority as JobPriority,
    ...(group === undefined ? {} : { group }),
    runAt: stored.number('runAt'),
    enqueuedAt: stored.number('enqueuedAt'),
    maxAttempts: stored.number('maxAttempts'),
    maxCrashes: stored.number('maxCrashes'),
    timeoutMs: stored.number('timeoutMs'),
    ...(backoff === undefined ? {} : { backoff: backoff as NonNullable<NewJob['backoff']> }),
    ...(uniqueKey === undefined
      ? {}
      : {
          unique: {
            key: uniqueKey,
            ttlMs: stored.number('uniqueTtlMs'),
            mode: stored.text('uniqueMode') === 'debounce' ? 'debounce' : 'dedupe',
          },
        }),
    queue,
    state: state as JobState,
    failures: stored.number('failures'),
    crashes: stored.number('crashes'),
    ...(startedAt === undefined ? {} : { startedAt }),
    ...(finishedAt === undefined ? {} : { finishedAt }),
    ...(fields.has('progress') ? { progress: stored.json('progress') } : {}),
    ...(fields.has('result') ? { result: stored.json('result') } : {}),
    errors: stored.errors(),
    ...(deadReason === undefined ? {} : { deadReason: deadReason as NonNullable<JobRecord['deadReason']> }),
    ...(state === 'active' && token !== undefined
      ? {
          lease: {
            id,
            token,
            worker: stored.text('worker'),
            expiresAt: stored.number('expiresAt'),
          },
        }
      : {}),
    ...(fields.has('cancel') ? { cancelRequested: true } : {}),
  };
}

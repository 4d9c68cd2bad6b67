import type { BackoffOptions } from '../bus/retry';
import { resolveRetry } from '../bus/retry';
import { InvalidOptionError, PayloadTooLargeError } from '../errors';
import { uuidv7At } from '../events/uuid';
import {
  JOB_PRIORITIES,
  type JobPriority,
  type JobUniqueness,
  type NewJob,
  type PriorityPolicy,
} from './backend';
import type { AnyJobDefinition } from './define-job';
import type { EnqueueOptions, JobQueueOptions, UniqueOptions } from './types';

/** Every default of the job queue, in one place. */
export const JOB_DEFAULTS: {
  readonly queue: string;
  readonly attempts: number;
  readonly timeoutMs: number;
  readonly priority: JobPriority;
  readonly maxCrashes: number;
  readonly groupConcurrency: number;
  readonly weights: Readonly<Record<JobPriority, number>>;
  readonly leaseTtlMs: number;
  readonly retainCompletedMs: number;
  readonly maxPayloadBytes: number;
  readonly concurrency: number;
  readonly closeTimeoutMs: number;
  readonly recoverIntervalMs: number;
  readonly idleWaitMs: number;
} = {
  queue: 'default',
  attempts: 5,
  timeoutMs: 30 * 60_000,
  priority: 'normal',
  maxCrashes: 3,
  groupConcurrency: 1,
  weights: { critical: 8, high: 4, normal: 2, low: 1 },
  leaseTtlMs: 5_000,
  retainCompletedMs: 86_400_000,
  maxPayloadBytes: 512 * 1024,
  concurrency: 10,
  closeTimeoutMs: 10_000,
  /** How often each worker looks for jobs whose lease expired. */
  recoverIntervalMs: 1_000,
  /** Longest a worker waits for a notification before claiming again (the safety net). */
  idleWaitMs: 5_000,
};

const QUEUE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

/** The queue-wide settings, validated. */
export interface ResolvedQueueOptions {
  readonly queue: string;
  readonly groupConcurrency: number;
  readonly groupRate: { readonly max: number; readonly perMs: number } | undefined;
  readonly priority: PriorityPolicy;
  readonly leaseTtlMs: number;
  readonly retainCompletedMs: number;
  readonly maxPayloadBytes: number;
}

/**
 * Validates the queue-wide options of `createJobQueue` and applies the defaults.
 *
 * @throws {@link InvalidOptionError} naming the option at fault.
 */
export function resolveQueueOptions(
  options: JobQueueOptions<ReadonlyArray<AnyJobDefinition>, unknown>,
): ResolvedQueueOptions {
  const where = 'createJobQueue';
  const queue = options.queue ?? JOB_DEFAULTS.queue;
  if (typeof queue !== 'string' || !QUEUE_NAME.test(queue)) {
    throw new InvalidOptionError(
      where,
      'queue',
      `(${JSON.stringify(queue)}) must be 1 to 128 letters, digits and "_.:-", starting with a letter or digit`,
    );
  }
  const groups = options.groups ?? {};
  const groupConcurrency = positiveInteger(
    where,
    'groups.concurrency',
    groups.concurrency ?? JOB_DEFAULTS.groupConcurrency,
  );
  let groupRate: ResolvedQueueOptions['groupRate'];
  if (groups.rate !== undefined) {
    groupRate = {
      max: positiveInteger(where, 'groups.rate.max', groups.rate.max),
      perMs: positiveInteger(where, 'groups.rate.perMs', groups.rate.perMs),
    };
  }
  return {
    queue,
    groupConcurrency,
    groupRate,
    priority: resolvePriorityPolicy(where, options.priority),
    leaseTtlMs: minimum(where, 'leaseTtlMs', options.leaseTtlMs ?? JOB_DEFAULTS.leaseTtlMs, 100),
    retainCompletedMs: minimum(
      where,
      'retainCompletedMs',
      options.retainCompletedMs ?? JOB_DEFAULTS.retainCompletedMs,
      0,
    ),
    maxPayloadBytes: positiveInteger(
      where,
      'maxPayloadBytes',
      options.maxPayloadBytes ?? JOB_DEFAULTS.maxPayloadBytes,
    ),
  };
}

function resolvePriorityPolicy(where: string, priority: JobQueueOptions<[]>['priority']): PriorityPolicy {
  if (priority === undefined || priority === 'weighted')
    return { mode: 'weighted', weights: JOB_DEFAULTS.weights };
  if (priority === 'strict') return { mode: 'strict' };
  if (typeof priority !== 'object' || priority === null || typeof priority.weights !== 'object') {
    throw new InvalidOptionError(
      where,
      'priority',
      "must be 'strict', 'weighted' or { weights: { critical, high, normal, low } }",
    );
  }
  const weights = {} as Record<JobPriority, number>;
  for (const level of JOB_PRIORITIES) {
    weights[level] = positiveInteger(where, `priority.weights.${level}`, priority.weights[level]);
  }
  return { mode: 'weighted', weights };
}

/** What the queue knows when it turns one enqueue into a {@link NewJob}. */
export interface EnqueueContext {
  readonly queue: ResolvedQueueOptions;
  readonly now: number;
}

/**
 * Turns a validated payload and the enqueue options (over the definition's defaults) into the job a backend adds.
 *
 * @throws {@link InvalidOptionError} naming the option at fault, {@link PayloadTooLargeError} for a payload over
 * the queue's limit.
 */
export function buildNewJob(
  definition: AnyJobDefinition,
  payload: unknown,
  options: EnqueueOptions<unknown>,
  context: EnqueueContext,
): NewJob {
  const where = `enqueue("${definition.type}")`;
  const defaults = definition.defaults;
  const runAt = resolveRunAt(where, options, context.now);
  const jobId = options.jobId;
  if (jobId !== undefined && (typeof jobId !== 'string' || jobId.length === 0 || jobId.length > 256)) {
    throw new InvalidOptionError(where, 'jobId', 'must be a string of 1 to 256 characters');
  }
  const attempts = positiveInteger(
    where,
    'attempts',
    options.attempts ?? defaults.attempts ?? JOB_DEFAULTS.attempts,
  );
  const priority = options.priority ?? defaults.priority ?? JOB_DEFAULTS.priority;
  if (!JOB_PRIORITIES.includes(priority)) {
    throw new InvalidOptionError(
      where,
      'priority',
      `must be one of ${JOB_PRIORITIES.map((p) => `'${p}'`).join(', ')}, got ${JSON.stringify(priority)}`,
    );
  }
  const backoff = resolveStoredBackoff(where, options.backoff, defaults.backoff);
  const group = resolveGroup(where, options.group ?? defaults.group, payload);
  const unique = resolveUnique(where, definition.type, options.unique ?? defaults.unique, payload);
  const job: { -readonly [K in keyof NewJob]: NewJob[K] } = {
    id: jobId ?? uuidv7At(context.now),
    type: definition.type,
    payload,
    priority,
    runAt,
    enqueuedAt: context.now,
    maxAttempts: attempts,
    maxCrashes: positiveInteger(
      where,
      'maxCrashes',
      options.maxCrashes ?? defaults.maxCrashes ?? JOB_DEFAULTS.maxCrashes,
    ),
    timeoutMs: positiveInteger(
      where,
      'timeoutMs',
      options.timeoutMs ?? defaults.timeoutMs ?? JOB_DEFAULTS.timeoutMs,
    ),
  };
  if (backoff !== undefined) job.backoff = backoff;
  if (group !== undefined) job.group = group;
  if (unique !== undefined) job.unique = unique;
  checkSize(where, job, context.queue.maxPayloadBytes);
  return job;
}

function resolveRunAt(where: string, options: EnqueueOptions<unknown>, now: number): number {
  const { delayMs, runAt } = options;
  if (delayMs !== undefined && runAt !== undefined) {
    throw new InvalidOptionError(where, 'runAt', 'and "delayMs" contradict each other; give one of them');
  }
  if (delayMs !== undefined) {
    if (typeof delayMs !== 'number' || !Number.isFinite(delayMs) || delayMs < 0) {
      throw new InvalidOptionError(
        where,
        'delayMs',
        `must be a finite number of milliseconds >= 0, got ${String(delayMs)}`,
      );
    }
    return now + Math.ceil(delayMs);
  }
  if (runAt !== undefined) {
    const at = runAt instanceof Date ? runAt.getTime() : runAt;
    if (typeof at !== 'number' || !Number.isFinite(at)) {
      throw new InvalidOptionError(where, 'runAt', 'must be a Date or epoch milliseconds');
    }
    return Math.max(now, Math.ceil(at));
  }
  return now;
}

function resolveStoredBackoff(
  where: string,
  given: BackoffOptions | undefined,
  defined: AnyJobDefinition['defaults']['backoff'],
): BackoffOptions | undefined {
  if (given !== undefined && (typeof given !== 'object' || given === null)) {
    throw new InvalidOptionError(
      where,
      'backoff',
      'must be backoff options (a function can only be set in defineJob)',
    );
  }
  const merged =
    given === undefined
      ? typeof defined === 'object'
        ? defined
        : undefined
      : { ...(typeof defined === 'object' ? defined : {}), ...given };
  if (merged !== undefined) resolveRetry(where, { backoff: merged });
  return merged;
}

function resolveGroup(where: string, group: unknown, payload: unknown): string | undefined {
  const value = typeof group === 'function' ? (group as (payload: unknown) => unknown)(payload) : group;
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > 256) {
    throw new InvalidOptionError(
      where,
      'group',
      `must be a string of 1 to 256 characters, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

function resolveUnique(
  where: string,
  type: string,
  unique: UniqueOptions<never> | EnqueueOptions['unique'] | undefined,
  payload: unknown,
): JobUniqueness | undefined {
  if (unique === undefined) return undefined;
  if (typeof unique !== 'object' || unique === null) {
    throw new InvalidOptionError(where, 'unique', 'must be an object such as { ttlMs: 60000 }');
  }
  const ttlMs = positiveInteger(where, 'unique.ttlMs', unique.ttlMs);
  const mode = unique.mode ?? 'dedupe';
  if (mode !== 'dedupe' && mode !== 'debounce') {
    throw new InvalidOptionError(
      where,
      'unique.mode',
      `must be 'dedupe' or 'debounce', got ${JSON.stringify(mode)}`,
    );
  }
  const given =
    typeof unique.key === 'function' ? (unique.key as (payload: unknown) => unknown)(payload) : unique.key;
  if (given !== undefined && (typeof given !== 'string' || given.length === 0 || given.length > 512)) {
    throw new InvalidOptionError(where, 'unique.key', 'must be a string of 1 to 512 characters');
  }
  return { key: given ?? defaultUniqueKey(type, payload), ttlMs, mode };
}

/** The job type and its payload as canonical JSON; hashed when long, so keys stay short. */
function defaultUniqueKey(type: string, payload: unknown): string {
  const text = canonicalJson(payload);
  return text.length <= 200 ? `${type}:${text}` : `${type}:#${fnv1a64(text)}:${text.length}`;
}

/** JSON with object keys sorted, so equal payloads give equal keys whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, field]) => field !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, field]) => `${JSON.stringify(key)}:${canonicalJson(field)}`).join(',')}}`;
}

function fnv1a64(text: string): string {
  let high = 0xcbf29ce4;
  let low = 0x84222325;
  for (let i = 0; i < text.length; i++) {
    low ^= text.charCodeAt(i);
    // 64-bit multiply by the FNV prime 0x100000001b3, in two 32-bit halves.
    const lowTimes = low * 0x1b3;
    const carry = Math.floor(lowTimes / 0x100000000);
    high = (Math.imul(high, 0x1b3) + Math.imul(low, 0x100) + carry) >>> 0;
    low = lowTimes >>> 0;
  }
  return high.toString(16).padStart(8, '0') + low.toString(16).padStart(8, '0');
}

const encoder = new TextEncoder();

function checkSize(where: string, job: NewJob, maxBytes: number): void {
  let text: string | undefined;
  try {
    text = JSON.stringify(job.payload);
  } catch (error) {
    throw new InvalidOptionError(where, 'payload', `cannot be stored as JSON (${(error as Error).message})`);
  }
  const bytes = encoder.encode(text ?? 'null').length;
  if (bytes > maxBytes) {
    throw new PayloadTooLargeError(
      'job queue',
      { id: job.id, sizeBytes: bytes, kind: 'job' },
      maxBytes,
      "raise the queue's maxPayloadBytes",
    );
  }
}

function positiveInteger(where: string, option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new InvalidOptionError(where, option, `must be an integer >= 1, got ${JSON.stringify(value)}`);
  }
  return value;
}

function minimum(where: string, option: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new InvalidOptionError(
      where,
      option,
      `must be a number of milliseconds >= ${min}, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

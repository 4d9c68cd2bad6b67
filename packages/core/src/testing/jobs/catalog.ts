import type { StandardSchemaV1 } from '@standard-schema/spec';
import { uuidv7 } from '../../events/uuid';
import type { NewJob } from '../../jobs/backend';
import { defineJob, type JobDefinition } from '../../jobs/define-job';
import type { JobDefaults } from '../../jobs/types';

/** The field types {@link objectSchema} checks: scalars, or a nested object of fields. */
export type FieldSpec = 'string' | 'number' | 'boolean' | { readonly [field: string]: FieldSpec };

/** The TypeScript type a {@link FieldSpec} describes. */
export type FieldType<S> = S extends 'string'
  ? string
  : S extends 'number'
    ? number
    : S extends 'boolean'
      ? boolean
      : { -readonly [K in keyof S]: FieldType<S[K]> };

/**
 * A Standard Schema validator of a plain object, so the suite needs no schema library. Every field is required;
 * each problem is reported with its path, as zod or valibot would.
 *
 * @example
 * ```ts
 * const schema = objectSchema({ label: 'string', meta: { n: 'number' } });
 * ```
 */
export function objectSchema<const S extends { readonly [field: string]: FieldSpec }>(
  shape: S,
): StandardSchemaV1<FieldType<S>, FieldType<S>> {
  return {
    '~standard': {
      version: 1,
      vendor: 'relaybus-conformance',
      validate: (value) => {
        const issues = check(shape, value, []);
        return issues.length === 0 ? { value: value as FieldType<S> } : { issues };
      },
    },
  };
}

function check(spec: FieldSpec, value: unknown, path: PropertyKey[]): StandardSchemaV1.Issue[] {
  if (typeof spec === 'string') {
    return typeof value === spec ? [] : [{ message: `expected a ${spec}, got ${kindOf(value)}`, path }];
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return [{ message: `expected an object, got ${kindOf(value)}`, path }];
  }
  return Object.entries(spec).flatMap(([field, fieldSpec]) =>
    check(fieldSpec, Reflect.get(value, field), [...path, field]),
  );
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'an array' : typeof value;
}

/** The payload of {@link Task}. */
export interface TaskPayload {
  label: string;
}

/** The payload of {@link Sum}. */
export interface SumPayload {
  a: number;
  b: number;
  meta: { note: string };
}

type Schema<T> = StandardSchemaV1<T, T>;

/**
 * A job definition whose payload is a {@link TaskPayload}.
 *
 * @example
 * ```ts
 * const Flaky: TaskJob<'conformance.flaky'> = taskJob('conformance.flaky');
 * ```
 */
export type TaskJob<TType extends string = string> = JobDefinition<TType, Schema<TaskPayload>>;

const taskSchema: Schema<TaskPayload> = objectSchema({ label: 'string' });

/**
 * The suite's everyday job: a payload with a readable label.
 *
 * @example
 * ```ts
 * await jobs.enqueue(Task, { label: 'a1' });
 * ```
 */
export const Task: TaskJob<'conformance.task'> = defineJob('conformance.task', taskSchema);

/**
 * A job with a nested payload, for typed payloads, results and validation paths.
 *
 * @example
 * ```ts
 * await jobs.enqueue(Sum, { a: 2, b: 3, meta: { note: 'x' } });
 * ```
 */
export const Sum: JobDefinition<'conformance.sum', Schema<SumPayload>> = defineJob(
  'conformance.sum',
  objectSchema({ a: 'number', b: 'number', meta: { note: 'string' } }),
);

/**
 * A job type of the test's own, with defaults (a backoff function, a group function): one definition per test,
 * since defaults belong to the definition.
 *
 * @example
 * ```ts
 * const Flaky = taskJob('conformance.flaky', { backoff: () => 50 });
 * ```
 */
export function taskJob<const TType extends string>(
  type: TType,
  defaults: JobDefaults<TaskPayload> = {},
): TaskJob<TType> {
  return defineJob(type, taskSchema, defaults);
}

/**
 * A job as a queue would hand it to `backend.add`, due now, with every default resolved; `fields` override. For
 * tests that store what a queue never would (a payload its schema refuses).
 *
 * @example
 * ```ts
 * await backend.add(queue, [newJob({ type: Task.type, payload: { label: 42 } })]);
 * ```
 */
export function newJob(fields: Partial<NewJob> & Pick<NewJob, 'type' | 'payload'>): NewJob {
  const now = Date.now();
  return {
    id: uuidv7(),
    priority: 'normal',
    runAt: now,
    enqueuedAt: now,
    maxAttempts: 5,
    maxCrashes: 3,
    timeoutMs: 60_000,
    ...fields,
  };
}

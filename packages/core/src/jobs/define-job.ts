import type { StandardSchemaV1 } from '@standard-schema/spec';
import { InvalidOptionError } from '../errors';
import { isStandardSchema } from '../events/define-event';
import type { JobDefaults } from './types';

/**
 * A typed, validated job type: its name, payload schema and defaults. Made by {@link defineJob}.
 *
 * @example
 * ```ts
 * const Recalc = defineJob('tasks:recalculate_critical_path', z.object({ projectId: z.string() }));
 * await jobs.enqueue(Recalc, { projectId: 'p1' });
 * ```
 */
export interface JobDefinition<
  TType extends string = string,
  TSchema extends StandardSchemaV1 = StandardSchemaV1,
> {
  /** Marks job definitions apart from event definitions. */
  readonly kind: 'job';
  /** The job type. */
  readonly type: TType;
  /** Validates the payload on enqueue and again before the handler runs. */
  readonly schema: TSchema;
  /** Options every enqueue of this type starts from. */
  readonly defaults: Readonly<JobDefaults>;
}

/**
 * Any job definition, whatever its type and schema.
 *
 * @example
 * ```ts
 * const catalog: AnyJobDefinition[] = [SendInvoice, Recalc];
 * ```
 */
// biome-ignore lint/suspicious/noExplicitAny: the schema must stay open so that every definition is assignable here
export type AnyJobDefinition = JobDefinition<string, StandardSchemaV1<any, any>>;

/**
 * The payload a handler receives for a job definition (the schema's output type).
 *
 * @example
 * ```ts
 * type RecalcPayload = JobPayload<typeof Recalc>; // { projectId: string }
 * ```
 */
export type JobPayload<TDefinition> =
  TDefinition extends JobDefinition<string, infer S> ? StandardSchemaV1.InferOutput<S> : never;

/**
 * The payload `enqueue` takes for a job definition (the schema's input type).
 *
 * @example
 * ```ts
 * const input: JobInput<typeof Recalc> = { projectId: 'p1' };
 * ```
 */
export type JobInput<TDefinition> =
  TDefinition extends JobDefinition<string, infer S> ? StandardSchemaV1.InferInput<S> : never;

const JOB_TYPE = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$/;

/**
 * Defines a job type with a Standard Schema validator (zod, valibot, arktype, ...) and its default options.
 *
 * @param type - letters, digits and `_.:-`, such as `tasks:recalculate_critical_path`.
 * @param schema - validates the payload on enqueue and again before the handler runs.
 * @param defaults - options each enqueue starts from (each enqueue may override them).
 * @throws {@link InvalidOptionError} when the type or schema is malformed.
 * @example
 * ```ts
 * import { z } from 'zod';
 * const Recalc = defineJob('tasks:recalculate_critical_path', z.object({ projectId: z.string() }), {
 *   attempts: 3,
 *   timeoutMs: 60_000,
 *   group: (payload) => payload.projectId, // one at a time per project
 * });
 * ```
 */
export function defineJob<const TType extends string, TSchema extends StandardSchemaV1>(
  type: TType,
  schema: TSchema,
  defaults: JobDefaults<StandardSchemaV1.InferOutput<TSchema>> = {},
): JobDefinition<TType, TSchema> {
  const where = `defineJob("${String(type)}")`;
  if (typeof type !== 'string' || !JOB_TYPE.test(type)) {
    throw new InvalidOptionError(
      where,
      'type',
      'must be 1 to 200 letters, digits and "_.:-", starting with a letter or digit, such as "tasks:recalculate"',
    );
  }
  if (!isStandardSchema(schema)) {
    throw new InvalidOptionError(
      where,
      'schema',
      `must be a Standard Schema validator (such as a zod, valibot or arktype schema), got ${schema === null ? 'null' : typeof schema}`,
    );
  }
  if (defaults === null || typeof defaults !== 'object') {
    throw new InvalidOptionError(where, 'defaults', 'must be an object of enqueue options');
  }
  return Object.freeze({
    kind: 'job',
    type,
    schema,
    defaults: Object.freeze({ ...defaults }),
  }) as JobDefinition<TType, TSchema>;
}

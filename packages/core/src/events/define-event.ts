import type { StandardSchemaV1 } from '@standard-schema/spec';
import {
  InvalidEnvelopeError,
  InvalidOptionError,
  RelaybusError,
  ValidationError,
  type ValidationIssue,
} from '../errors';
import type { Envelope, EnvelopeOptions } from './envelope';
import { uuidv7At } from './uuid';

/**
 * Functions that turn the payload of an older schema version into the next one: `upcast[n]` reads version `n`
 * and returns version `n + 1`. They run in a chain until the payload reaches the definition's `version`.
 *
 * @example
 * ```ts
 * const upcast: Upcasters = { 1: (v1) => ({ ...(v1 as object), title: (v1 as { name: string }).name }) };
 * ```
 */
export type Upcasters = Readonly<Record<number, (data: unknown) => unknown>>;

/**
 * Options for {@link defineEvent}.
 *
 * @example
 * ```ts
 * defineEvent('task.created', schema, { version: 2, key: (d) => d.taskId, upcast: { 1: fromV1 } });
 * ```
 */
export interface DefineEventOptions<TData> {
  /**
   * Schema version of the payload. Bump it when the payload changes shape, and add an upcaster for the old one.
   * @defaultValue 1
   */
  version?: number;
  /** Ordering key taken from the payload. Events with the same key are handled in order within a group. */
  key?: (data: TData) => string;
  /** Upcasters from older versions, keyed by the version they read. */
  upcast?: Upcasters;
}

/**
 * A typed, validated event type: its name, schema, version, ordering key and upcasters. Made by {@link defineEvent}.
 *
 * @example
 * ```ts
 * const event = TaskCreated.create({ taskId: 't1', title: 'Write docs' });
 * if (TaskCreated.is(event)) console.log(event.data.title);
 * ```
 */
export interface EventDefinition<
  TType extends string = string,
  TSchema extends StandardSchemaV1 = StandardSchemaV1,
> {
  /** The event type, also the topic it travels on. */
  readonly type: TType;
  /** The current schema version. */
  readonly version: number;
  /** The Standard Schema validator of the current version's payload. */
  readonly schema: TSchema;
  /** Upcasters from older versions. */
  readonly upcast: Upcasters;
  /** Returns the ordering key for a payload, when the definition has one. */
  keyOf(data: StandardSchemaV1.InferOutput<TSchema>): string | undefined;
  /**
   * Validates `data` and wraps it in a new envelope.
   * @throws {@link ValidationError} listing every issue with its path.
   */
  create(
    data: StandardSchemaV1.InferInput<TSchema>,
    options?: EnvelopeOptions,
  ): Envelope<TType, StandardSchemaV1.InferOutput<TSchema>>;
  /** Whether an envelope is of this type (by `type` only; the payload was validated when it was read). */
  is(envelope: Envelope): envelope is Envelope<TType, StandardSchemaV1.InferOutput<TSchema>>;
}

/**
 * Any event definition, whatever its type and schema.
 *
 * @example
 * ```ts
 * const catalog: AnyEventDefinition[] = [TaskCreated, TaskCompleted];
 * ```
 */
// biome-ignore lint/suspicious/noExplicitAny: the schema must stay open so that every definition is assignable here
export type AnyEventDefinition = EventDefinition<string, StandardSchemaV1<any, any>>;

/**
 * The validated payload type of an event definition.
 *
 * @example
 * ```ts
 * type TaskCreatedData = EventData<typeof TaskCreated>; // { taskId: string; title: string }
 * ```
 */
export type EventData<TDefinition> =
  TDefinition extends EventDefinition<string, infer S> ? StandardSchemaV1.InferOutput<S> : never;

/**
 * The payload type a publisher passes for an event definition (the schema's input type).
 *
 * @example
 * ```ts
 * const input: EventInput<typeof TaskCreated> = { taskId: 't1', title: 'Write docs' };
 * ```
 */
export type EventInput<TDefinition> =
  TDefinition extends EventDefinition<string, infer S> ? StandardSchemaV1.InferInput<S> : never;

/**
 * The envelope type of an event definition, or of a union of definitions.
 *
 * @example
 * ```ts
 * function onCreated(event: EventOf<typeof TaskCreated>) { return event.data.title; }
 * ```
 */
export type EventOf<TDefinition> =
  TDefinition extends EventDefinition<infer T, infer S>
    ? Envelope<T, StandardSchemaV1.InferOutput<S>>
    : never;

const TYPE_PATTERN = /^[A-Za-z0-9_:-]+(\.[A-Za-z0-9_:-]+)*$/;

/**
 * Defines an event type with a Standard Schema validator (zod, valibot, arktype, ...).
 *
 * @param type - dot-separated words such as `task.created`; it is also the topic name.
 * @param schema - validates the payload on publish and again on consume (after upcasting).
 * @throws {@link InvalidOptionError} when the type, version or upcasters are malformed.
 * @example
 * ```ts
 * import { z } from 'zod';
 * const TaskCreated = defineEvent('task.created', z.object({ taskId: z.string(), title: z.string() }), {
 *   key: (data) => data.taskId,
 * });
 * ```
 */
export function defineEvent<const TType extends string, TSchema extends StandardSchemaV1>(
  type: TType,
  schema: TSchema,
  options: DefineEventOptions<StandardSchemaV1.InferOutput<TSchema>> = {},
): EventDefinition<TType, TSchema> {
  const where = `defineEvent("${type}")`;
  if (typeof type !== 'string' || !TYPE_PATTERN.test(type)) {
    throw new InvalidOptionError(
      where,
      'type',
      'must be dot-separated words of letters, digits, "_", ":" or "-" (no spaces, empty words or wildcards)',
    );
  }
  if (!isStandardSchema(schema)) {
    throw new InvalidOptionError(
      where,
      'schema',
      `must be a Standard Schema validator (a value whose "~standard" property has version 1 and a validate function, such as a zod 3.25+/4, valibot 1 or arktype 2 schema), got ${schema === null ? 'null' : typeof schema}`,
    );
  }
  const version = options.version ?? 1;
  if (!Number.isInteger(version) || version < 1) {
    throw new InvalidOptionError(where, 'version', `must be an integer >= 1, got ${String(version)}`);
  }
  const upcast: Upcasters = options.upcast ?? {};
  for (const from of Object.keys(upcast)) {
    const n = Number(from);
    if (!Number.isInteger(n) || n < 1 || n >= version) {
      throw new InvalidOptionError(where, `upcast.${from}`, `must name a version from 1 to ${version - 1}`);
    }
  }
  const keyFn = options.key;
  return {
    type,
    version,
    schema,
    upcast,
    keyOf: (data) => (keyFn === undefined ? undefined : keyFn(data)),
    create(data, envelopeOptions = {}) {
      const value = validateSync(type, schema, data) as StandardSchemaV1.InferOutput<TSchema>;
      return buildEnvelope(
        type,
        version,
        value,
        envelopeOptions.key ?? keyFn?.(value),
        envelopeOptions,
        'relaybus',
      );
    },
    is: (envelope): envelope is Envelope<TType, StandardSchemaV1.InferOutput<TSchema>> =>
      envelope.type === type,
  };
}

/** Builds an envelope from already validated data. */
export function buildEnvelope<TType extends string, TData>(
  type: TType,
  version: number,
  data: TData,
  key: string | undefined,
  options: EnvelopeOptions,
  defaultSource: string,
): Envelope<TType, TData> {
  const time = options.time;
  const now = Date.now();
  const envelope: {
    -readonly [K in keyof Envelope<TType, TData>]: Envelope<TType, TData>[K];
  } = {
    id: options.id ?? uuidv7At(now),
    type,
    version,
    time: time === undefined ? isoAt(now) : typeof time === 'string' ? time : time.toISOString(),
    source: options.source ?? defaultSource,
    metadata: options.metadata ?? {},
    data,
  };
  if (options.subject !== undefined) envelope.subject = options.subject;
  const resolvedKey = key ?? options.subject;
  if (resolvedKey !== undefined) envelope.key = resolvedKey;
  if (options.correlationId !== undefined) envelope.correlationId = options.correlationId;
  if (options.causationId !== undefined) envelope.causationId = options.causationId;
  if (options.traceparent !== undefined) envelope.traceparent = options.traceparent;
  return envelope;
}

let isoMs = -1;
let isoText = '';

/** A clock reading as ISO 8601, formatted at most once per millisecond (formatting costs more than an event). */
function isoAt(ms: number): string {
  if (ms !== isoMs) {
    isoMs = ms;
    isoText = new Date(ms).toISOString();
  }
  return isoText;
}

/** Maps Standard Schema issues to relaybus issues with plain paths. */
export function toIssues(issues: ReadonlyArray<StandardSchemaV1.Issue>): ValidationIssue[] {
  return issues.map((issue) => ({
    message: issue.message,
    path: (issue.path ?? []).map((segment) =>
      typeof segment === 'object' && segment !== null ? segment.key : segment,
    ),
  }));
}

/**
 * Validates synchronously.
 * @throws {@link ValidationError} on invalid data, {@link RelaybusError} when the schema is asynchronous.
 */
export function validateSync(type: string, schema: StandardSchemaV1, data: unknown): unknown {
  const result = schema['~standard'].validate(data);
  if (result instanceof Promise) {
    throw new RelaybusError(
      'INVALID_OPTION',
      `The schema of "${type}" validates asynchronously; create() is synchronous. Publish through the bus, which awaits async schemas.`,
    );
  }
  if (result.issues !== undefined) throw new ValidationError(type, toIssues(result.issues));
  return result.value;
}

/**
 * Validates, awaiting asynchronous schemas only when they are asynchronous.
 * Returns the value, or a promise of it; throws (or rejects with) {@link ValidationError}.
 */
export function validate(type: string, schema: StandardSchemaV1, data: unknown): unknown {
  const result = schema['~standard'].validate(data);
  if (result instanceof Promise) {
    return result.then((settled) => {
      if (settled.issues !== undefined) throw new ValidationError(type, toIssues(settled.issues));
      return settled.value;
    });
  }
  if (result.issues !== undefined) throw new ValidationError(type, toIssues(result.issues));
  return result.value;
}

/**
 * Brings a payload of an older version up to the definition's current version.
 * @throws {@link InvalidEnvelopeError} when the version is newer than the definition or a step is missing.
 */
export function upcastData(definition: AnyEventDefinition, fromVersion: number, data: unknown): unknown {
  if (fromVersion === definition.version) return data;
  if (!Number.isInteger(fromVersion) || fromVersion < 1 || fromVersion > definition.version) {
    throw new InvalidEnvelopeError(
      `event "${definition.type}" has version ${String(fromVersion)}, but this process knows versions 1 to ${definition.version}; deploy the newer definition first`,
    );
  }
  let value = data;
  for (let v = fromVersion; v < definition.version; v++) {
    const step = definition.upcast[v];
    if (step === undefined) {
      throw new InvalidEnvelopeError(
        `event "${definition.type}" has version ${fromVersion}, and no upcaster reads version ${v}; add upcast[${v}] to its definition`,
      );
    }
    value = step(value);
  }
  return value;
}

/**
 * Whether `value` implements Standard Schema v1. Schemas may be objects (zod, valibot) or functions (arktype), so
 * only the `~standard` property decides.
 */
export function isStandardSchema(value: unknown): value is StandardSchemaV1 {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return false;
  const standard = (value as { '~standard'?: unknown })['~standard'];
  return (
    typeof standard === 'object' &&
    standard !== null &&
    (standard as { version?: unknown }).version === 1 &&
    typeof (standard as { validate?: unknown }).validate === 'function'
  );
}

/**
 * Every failure mode relaybus reports, as a string literal. Switch on it instead of on class names or messages.
 *
 * @example
 * ```ts
 * try {
 *   await bus.publish(TaskCreated, input);
 * } catch (error) {
 *   if (error instanceof RelaybusError && error.code === 'VALIDATION_FAILED') respond(400, error.issues);
 * }
 * ```
 */
export type RelaybusErrorCode =
  /** A payload or envelope did not match its schema. */
  | 'VALIDATION_FAILED'
  /** An event type is not in the catalog. */
  | 'UNKNOWN_EVENT'
  /** A job type is not in the queue's catalog. */
  | 'UNKNOWN_JOB'
  /** A job id the queue still retains was enqueued again. */
  | 'DUPLICATE_JOB'
  /** An option was missing, malformed or out of range. */
  | 'INVALID_OPTION'
  /** A topic pattern is malformed, or matches no event of the catalog. */
  | 'INVALID_PATTERN'
  /** A received message is not a relaybus envelope. */
  | 'INVALID_ENVELOPE'
  /** A handler threw something that is not an `Error`, or a delivery kept expiring. */
  | 'HANDLER_FAILED'
  /** A handler ran past its `timeoutMs`. */
  | 'HANDLER_TIMEOUT'
  /** The bus, transport, store or subscription was closed. */
  | 'CLOSED'
  /** A rate limit refused the call. */
  | 'RATE_LIMITED'
  /** A circuit breaker is open. */
  | 'CIRCUIT_OPEN'
  /** The broker refused or failed a command (the connection itself was up). */
  | 'TRANSPORT_FAILED'
  /** The broker could not be reached: retry later; subscriptions keep retrying on their own. */
  | 'TRANSPORT_UNAVAILABLE'
  /** A message is larger than the transport accepts; retrying cannot help. */
  | 'PAYLOAD_TOO_LARGE'
  /** The transport does not offer this operation (see its capabilities). */
  | 'UNSUPPORTED'
  /** The driver client passed in is of an unsupported version or configuration. */
  | 'INCOMPATIBLE_CLIENT'
  /** A handler asked for no retry. */
  | 'NON_RETRYABLE'
  /** An append's expected version did not hold. */
  | 'VERSION_CONFLICT'
  /** A stream that has no events was read. */
  | 'STREAM_NOT_FOUND'
  /** A position does not belong to this store. */
  | 'INVALID_POSITION'
  /** A checkpoint moved under its writer. */
  | 'CHECKPOINT_CONFLICT'
  /** A projection handler failed. */
  | 'PROJECTION_FAILED'
  /** The event store's database refused or failed a statement (the connection itself was up). */
  | 'STORE_FAILED'
  /** The event store's database could not be reached: retry later. */
  | 'STORE_UNAVAILABLE'
  /** A store's storage is at another schema version than the package expects (run its migrations). */
  | 'SCHEMA_VERSION'
  /** The backing server refused an operation for lack of a privilege. */
  | 'PERMISSION_DENIED';

/**
 * Options shared by every relaybus error.
 *
 * @example
 * ```ts
 * new RelaybusError('CLOSED', 'bus is closed', { cause: original });
 * ```
 */
export interface RelaybusErrorOptions {
  /** The error that led to this one. */
  cause?: unknown;
}

/** Marks relaybus errors, so that two copies of the package (an ESM and a CJS build, say) recognise each other's. */
const ERROR_KINDS: unique symbol = Symbol.for('@relaybus/core/error-kinds');

/**
 * Base class of every error relaybus throws or dead-letters. Carries a machine-readable {@link RelaybusErrorCode}.
 *
 * `instanceof` works across copies of relaybus loaded side by side (the ESM and the CJS build, or two versions
 * in one `node_modules`): each error records the names of its classes under a registered symbol, and every
 * relaybus error class checks them. {@link RelaybusError.is} checks the brand alone, and also narrows on a code.
 *
 * @example
 * ```ts
 * if (error instanceof RelaybusError) log.warn({ code: error.code }, error.message);
 * if (RelaybusError.is(error, 'VALIDATION_FAILED')) respond(400, error.message);
 * ```
 */
export class RelaybusError extends Error {
  /** What kind of failure this is. */
  readonly code: RelaybusErrorCode;

  constructor(code: RelaybusErrorCode, message: string, options: RelaybusErrorOptions = {}) {
    super(message, 'cause' in options ? { cause: options.cause } : undefined);
    this.name = 'RelaybusError';
    this.code = code;
    const kinds: string[] = [];
    for (let type: unknown = new.target; type !== Error && typeof type === 'function'; ) {
      kinds.push(type.name);
      type = Object.getPrototypeOf(type);
    }
    Object.defineProperty(this, ERROR_KINDS, { value: kinds });
  }

  /**
   * Whether `value` is a relaybus error (from any copy of the package), optionally with this `code`.
   *
   * @example
   * ```ts
   * if (RelaybusError.is(error, 'VERSION_CONFLICT')) return reloadAndRetry();
   * ```
   */
  static is(value: unknown, code?: RelaybusErrorCode): value is RelaybusError {
    if (typeof value !== 'object' || value === null) return false;
    if (!Array.isArray((value as { [ERROR_KINDS]?: unknown })[ERROR_KINDS])) return false;
    return code === undefined || (value as { code?: unknown }).code === code;
  }

  /**
   * `instanceof` for this class and its subclasses, across copies of the package: true for instances made by this
   * copy, and for errors of another copy whose classes include one of this name.
   *
   * @example
   * ```ts
   * esmError instanceof RelaybusError; // also true for an error thrown by the CJS build
   * ```
   */
  static override [Symbol.hasInstance]<T>(
    this: abstract new (
      ...args: never
    ) => T,
    value: unknown,
  ): value is T {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class `instanceof` asks about (a subclass too).
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    if (typeof value !== 'object' || value === null) return false;
    const kinds = (value as { [ERROR_KINDS]?: unknown })[ERROR_KINDS];
    // biome-ignore lint/complexity/noThisInStatic: as above; the name of the class asked about.
    return Array.isArray(kinds) && kinds.includes(this.name);
  }
}

/**
 * One problem found by a schema: what was wrong and where (a path of property names and indexes).
 *
 * @example
 * ```ts
 * const issue: ValidationIssue = { path: ['title'], message: 'Required' };
 * ```
 */
export interface ValidationIssue {
  /** Where in the payload the problem is; empty for the payload as a whole. */
  readonly path: ReadonlyArray<PropertyKey>;
  /** What was wrong, as the schema library put it. */
  readonly message: string;
}

/**
 * A payload or envelope did not match its schema. Lists every issue with its path.
 *
 * @example
 * ```ts
 * try { TaskCreated.create({ taskId: 1 }); } catch (e) {
 *   if (e instanceof ValidationError) console.log(e.issues.map((i) => i.path.join('.')));
 * }
 * ```
 */
export class ValidationError extends RelaybusError {
  /** The event (or job) type whose payload was invalid. */
  readonly eventType: string;
  /** Every issue reported by the schema. */
  readonly issues: ReadonlyArray<ValidationIssue>;

  constructor(
    eventType: string,
    issues: ReadonlyArray<ValidationIssue>,
    options: RelaybusErrorOptions & { subject?: 'event' | 'job' } = {},
  ) {
    const list = issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`).join('; ');
    const what = options.subject === 'job' ? 'payload for job' : 'data for event';
    super('VALIDATION_FAILED', `Invalid ${what} "${eventType}": ${list}`, options);
    this.name = 'ValidationError';
    this.eventType = eventType;
    this.issues = issues;
  }
}

/**
 * An event type that is not in the bus's catalog was published, subscribed to or received.
 *
 * @example
 * ```ts
 * if (error instanceof UnknownEventError) console.log(error.eventType, error.known);
 * ```
 */
export class UnknownEventError extends RelaybusError {
  /** The type that is not known. */
  readonly eventType: string;
  /** The types the catalog does know. */
  readonly known: ReadonlyArray<string>;

  constructor(eventType: string, known: ReadonlyArray<string>, context: string) {
    const list = known.length > 0 ? known.map((t) => `"${t}"`).join(', ') : 'none';
    super(
      'UNKNOWN_EVENT',
      `Unknown event type "${eventType}" ${context}. Add its definition to createEventBus({ events }); known types: ${list}.`,
    );
    this.name = 'UnknownEventError';
    this.eventType = eventType;
    this.known = known;
  }
}

/**
 * A job type that is not in the queue's catalog was enqueued, handled or received.
 *
 * @example
 * ```ts
 * if (error instanceof UnknownJobError) console.log(error.jobType, error.known);
 * ```
 */
export class UnknownJobError extends RelaybusError {
  /** The type that is not known. */
  readonly jobType: string;
  /** The types the catalog does know. */
  readonly known: ReadonlyArray<string>;

  constructor(jobType: string, known: ReadonlyArray<string>, context: string) {
    const list = known.length > 0 ? known.map((t) => `"${t}"`).join(', ') : 'none';
    super(
      'UNKNOWN_JOB',
      `Unknown job type "${jobType}" ${context}. Add its definition to createJobQueue({ jobs }); known types: ${list}.`,
    );
    this.name = 'UnknownJobError';
    this.jobType = jobType;
    this.known = known;
  }
}

/**
 * A job was enqueued with a `jobId` the queue still retains (in any state, completed and dead included).
 *
 * @example
 * ```ts
 * try { await jobs.enqueue(SendInvoice, payload, { jobId: `invoice-${id}` }); } catch (error) {
 *   if (error instanceof DuplicateJobError) console.log('already enqueued:', error.jobId);
 * }
 * ```
 */
export class DuplicateJobError extends RelaybusError {
  /** The id that is taken. */
  readonly jobId: string;
  /** The queue that holds it. */
  readonly queue: string;

  constructor(queue: string, jobId: string) {
    super(
      'DUPLICATE_JOB',
      `Queue "${queue}" already has job ${JSON.stringify(jobId)} (it is retained in some state). Pick another jobId, or use \`unique\` to deduplicate without an error.`,
    );
    this.name = 'DuplicateJobError';
    this.jobId = jobId;
    this.queue = queue;
  }
}

/**
 * An option was missing, out of range or contradicted another option.
 *
 * @example
 * ```ts
 * bus.subscribe(TaskCreated, handler, { concurrency: 0 }); // throws InvalidOptionError naming "concurrency"
 * ```
 */
export class InvalidOptionError extends RelaybusError {
  /** The option at fault, as a dotted path such as `retry.attempts`. */
  readonly option: string;

  constructor(where: string, option: string, problem: string) {
    super('INVALID_OPTION', `${where}: option "${option}" ${problem}`);
    this.name = 'InvalidOptionError';
    this.option = option;
  }
}

/**
 * A topic pattern is malformed (empty words, wildcards inside words).
 *
 * @example
 * ```ts
 * bus.subscribe('task.*x', handler); // throws InvalidPatternError
 * ```
 */
export class InvalidPatternError extends RelaybusError {
  /** The pattern as given. */
  readonly pattern: string;

  constructor(pattern: string, problem: string) {
    super(
      'INVALID_PATTERN',
      `Invalid topic pattern "${pattern}": ${problem}. Patterns are dot-separated words; "*" matches one word and "#" zero or more.`,
    );
    this.name = 'InvalidPatternError';
    this.pattern = pattern;
  }
}

/**
 * A received message is not a relaybus envelope (wrong shape, unparseable JSON, bad field types).
 *
 * @example
 * ```ts
 * decodeEnvelope('{"oops": true}'); // throws InvalidEnvelopeError listing the missing fields
 * ```
 */
export class InvalidEnvelopeError extends RelaybusError {
  constructor(problem: string, options: RelaybusErrorOptions = {}) {
    super('INVALID_ENVELOPE', `Invalid event envelope: ${problem}`, options);
    this.name = 'InvalidEnvelopeError';
  }
}

/**
 * A handler threw or rejected with something that is not an `Error`; the thrown value is kept as `cause`.
 *
 * @example
 * ```ts
 * if (error instanceof HandlerError) console.log(error.cause);
 * ```
 */
export class HandlerError extends RelaybusError {
  constructor(eventType: string, thrown: unknown) {
    super('HANDLER_FAILED', `Handler for "${eventType}" threw a non-Error value: ${describe(thrown)}`, {
      cause: thrown,
    });
    this.name = 'HandlerError';
  }
}

/**
 * A handler did not settle within its time limit; its `ctx.signal` was aborted with this error.
 *
 * @example
 * ```ts
 * bus.subscribe(TaskCreated, handler, { timeoutMs: 5_000 });
 * ```
 */
export class HandlerTimeoutError extends RelaybusError {
  /** The limit that was exceeded. */
  readonly timeoutMs: number;

  constructor(eventType: string, timeoutMs: number) {
    super(
      'HANDLER_TIMEOUT',
      `Handler for "${eventType}" did not settle within ${timeoutMs} ms; its signal was aborted. Raise timeoutMs or make the handler honour ctx.signal.`,
    );
    this.name = 'HandlerTimeoutError';
    this.timeoutMs = timeoutMs;
  }
}

/**
 * The bus, transport or subscription was used after `close()`.
 *
 * @example
 * ```ts
 * await bus.close();
 * await bus.publish(TaskCreated, data); // rejects with ClosedError
 * ```
 */
export class ClosedError extends RelaybusError {
  constructor(what: string, action: string) {
    super('CLOSED', `Cannot ${action}: ${what} is closed. Create a new one, or call this before close().`);
    this.name = 'ClosedError';
  }
}

/**
 * Thrown by a handler to skip the remaining retries and dead-letter the event at once.
 *
 * @example
 * ```ts
 * bus.subscribe(TaskCreated, async (event) => {
 *   if (!event.data.title.trim()) throw new NonRetryableError('empty title can never succeed');
 * });
 * ```
 */
export class NonRetryableError extends RelaybusError {
  constructor(message: string, options: RelaybusErrorOptions = {}) {
    super('NON_RETRYABLE', message, options);
    this.name = 'NonRetryableError';
  }
}

/**
 * A transport could not carry out an operation: the broker refused or failed a command. Subclasses name the more
 * specific failures users branch on ({@link TransportUnavailableError}, {@link PayloadTooLargeError}), each with its
 * own `code`.
 *
 * @example
 * ```ts
 * if (error instanceof TransportError) console.log(error.transport, error.message);
 * ```
 */
export class TransportError extends RelaybusError {
  /** Name of the transport that failed. */
  readonly transport: string;

  constructor(transport: string, message: string, options: TransportErrorOptions = {}) {
    super(options.code ?? 'TRANSPORT_FAILED', `${transport}: ${message}`, options);
    this.name = 'TransportError';
    this.transport = transport;
  }
}

/**
 * Options of {@link TransportError}: a cause, and the code of a more specific failure.
 *
 * @example
 * ```ts
 * new TransportError('amqp', 'the broker refused the credentials', { code: 'TRANSPORT_UNAVAILABLE', cause });
 * ```
 */
export interface TransportErrorOptions extends RelaybusErrorOptions {
  /**
   * The failure mode.
   * @defaultValue 'TRANSPORT_FAILED'
   */
  code?:
    | 'TRANSPORT_FAILED'
    | 'TRANSPORT_UNAVAILABLE'
    | 'PAYLOAD_TOO_LARGE'
    | 'INCOMPATIBLE_CLIENT'
    | 'UNSUPPORTED';
}

/**
 * The broker could not be reached (or its connection was closed for good). Names the address. Subscriptions made
 * through the bus keep retrying after it; a `publish` that fails with it can be retried.
 *
 * @example
 * ```ts
 * try { await bus.publish(TaskCreated, data); } catch (error) {
 *   if (error instanceof TransportUnavailableError) console.log('broker down at', error.address);
 * }
 * ```
 */
export class TransportUnavailableError extends TransportError {
  /** Where the transport connects, such as `127.0.0.1:6379`. */
  readonly address: string;

  constructor(transport: string, address: string, problem: string, options: RelaybusErrorOptions = {}) {
    super(transport, `${address} ${problem}`, { ...options, code: 'TRANSPORT_UNAVAILABLE' });
    this.name = 'TransportUnavailableError';
    this.address = address;
  }
}

/**
 * A message is larger than the transport accepts. Nothing of the batch was sent; retrying cannot help, so relays
 * park such an event at once.
 *
 * @example
 * ```ts
 * try { await transport.publish(batch); } catch (error) {
 *   if (error instanceof PayloadTooLargeError) console.log(error.messageId, error.sizeBytes, error.maxBytes);
 * }
 * ```
 */
export class PayloadTooLargeError extends TransportError {
  /** Id of the first message that is too large. */
  readonly messageId: string;
  /** Its serialised size in bytes. */
  readonly sizeBytes: number;
  /** The limit in bytes. */
  readonly maxBytes: number;

  constructor(
    transport: string,
    message: {
      readonly id: string;
      /** Its index in the batch, for a message. */
      readonly index?: number;
      readonly sizeBytes: number;
      /** What was too large: a message (the default) or a job's payload. */
      readonly kind?: 'message' | 'job';
    },
    maxBytes: number,
    fix: string,
  ) {
    const job = message.kind === 'job';
    const at = message.index === undefined ? '' : ` (messages[${message.index}])`;
    super(
      transport,
      `${job ? 'the payload of job' : 'message'} ${JSON.stringify(message.id)}${at} is ${message.sizeBytes} bytes serialised, over the limit of ${maxBytes}; nothing of the batch was ${job ? 'enqueued' : 'sent'}. Store large payloads elsewhere and pass a reference, or ${fix}.`,
      { code: 'PAYLOAD_TOO_LARGE' },
    );
    this.name = 'PayloadTooLargeError';
    this.messageId = message.id;
    this.sizeBytes = message.sizeBytes;
    this.maxBytes = maxBytes;
  }
}

/**
 * The event store's database failed an operation. Names the store and the operation; the driver's error is `cause`.
 *
 * @example
 * ```ts
 * try { await store.append('task-1', [event]); } catch (error) {
 *   if (error instanceof StoreError) console.log(error.store, error.operation, error.cause);
 * }
 * ```
 */
export class StoreError extends RelaybusError {
  /** Name of the store, such as `postgres`. */
  readonly store: string;
  /** What was being done, such as `append` or `readAll`. */
  readonly operation: string;

  constructor(
    store: string,
    operation: string,
    message: string,
    options: RelaybusErrorOptions & { code?: 'STORE_FAILED' | 'STORE_UNAVAILABLE' } = {},
  ) {
    super(options.code ?? 'STORE_FAILED', `${store} ${operation}: ${message}`, options);
    this.name = 'StoreError';
    this.store = store;
    this.operation = operation;
  }
}

/**
 * The event store's database could not be reached. Names the operation and the address; retry later.
 *
 * @example
 * ```ts
 * try { await migrate(pool); } catch (error) {
 *   if (error instanceof StoreUnavailableError) console.log('Postgres down at', error.address);
 * }
 * ```
 */
export class StoreUnavailableError extends StoreError {
  /** Where the store connects, such as `127.0.0.1:5432`. */
  readonly address: string;

  constructor(
    store: string,
    operation: string,
    address: string,
    problem: string,
    options: RelaybusErrorOptions = {},
  ) {
    super(store, operation, `${address} ${problem}`, { ...options, code: 'STORE_UNAVAILABLE' });
    this.name = 'StoreUnavailableError';
    this.address = address;
  }
}

/**
 * Thrown while a circuit breaker is open: the handler was not called. The bus retries after `retryAfterMs`.
 *
 * @example
 * ```ts
 * if (error instanceof CircuitOpenError) console.log('retry in', error.retryAfterMs);
 * ```
 */
export class CircuitOpenError extends RelaybusError {
  /** How long until the breaker lets a trial call through. */
  readonly retryAfterMs: number;

  constructor(name: string, retryAfterMs: number) {
    super(
      'CIRCUIT_OPEN',
      `Circuit "${name}" is open after repeated failures; next trial in ${retryAfterMs} ms.`,
    );
    this.name = 'CircuitOpenError';
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * An append's expected version did not hold: another writer changed the stream first. Reload and retry.
 *
 * @example
 * ```ts
 * try { await store.append('task-1', [event], { expectedVersion: 3 }); } catch (error) {
 *   if (error instanceof VersionConflictError) console.log(error.expected, error.actual);
 * }
 * ```
 */
export class VersionConflictError extends RelaybusError {
  /** The stream written to. */
  readonly stream: string;
  /** What the writer expected. */
  readonly expected: number | 'any' | 'no_stream' | 'stream_exists';
  /** The stream's actual version (0 when it does not exist). */
  readonly actual: number;

  constructor(
    stream: string,
    expected: number | 'any' | 'no_stream' | 'stream_exists',
    actual: number,
    detail = '',
  ) {
    super(
      'VERSION_CONFLICT',
      `Version conflict on stream "${stream}": expected ${typeof expected === 'number' ? `version ${expected}` : expected}, but the stream is at version ${actual}${detail}. Reload the stream and retry.`,
    );
    this.name = 'VersionConflictError';
    this.stream = stream;
    this.expected = expected;
    this.actual = actual;
  }
}

/**
 * A stream that has no events was read.
 *
 * @example
 * ```ts
 * try { for await (const e of store.readStream('nope')) {} } catch (error) {
 *   if (error instanceof StreamNotFoundError) console.log(error.stream);
 * }
 * ```
 */
export class StreamNotFoundError extends RelaybusError {
  /** The stream that was read. */
  readonly stream: string;

  constructor(stream: string, store: string) {
    super('STREAM_NOT_FOUND', `Stream "${stream}" has no events in the ${store} event store.`);
    this.name = 'StreamNotFoundError';
    this.stream = stream;
  }
}

/**
 * A string given as a position is not a position of this store.
 *
 * @example
 * ```ts
 * store.readAll({ from: 'yesterday' }); // InvalidPositionError on first iteration
 * ```
 */
export class InvalidPositionError extends RelaybusError {
  /** The string that was given. */
  readonly position: string;

  constructor(position: unknown, store: string, expected: string) {
    super(
      'INVALID_POSITION',
      `${JSON.stringify(position)} is not a position of the ${store} event store (expected ${expected}). Use a position read from this store.`,
    );
    this.name = 'InvalidPositionError';
    this.position = String(position);
  }
}

/**
 * A checkpoint save expected another stored position: a second instance of the projection runs, or the
 * checkpoint was reset. Stop one of the instances (or restart this one) so that each checkpoint has one writer.
 *
 * @example
 * ```ts
 * try { await checkpoints.save('task-board@v1', position, previous); } catch (error) {
 *   if (error instanceof CheckpointConflictError) console.log(error.expected, error.actual);
 * }
 * ```
 */
export class CheckpointConflictError extends RelaybusError {
  /** The checkpoint's name. */
  readonly checkpoint: string;
  /** The position the writer expected to replace. */
  readonly expected: string;
  /** The position actually stored (`undefined` when there was none). */
  readonly actual: string | undefined;

  constructor(checkpoint: string, expected: string, actual: string | undefined) {
    super(
      'CHECKPOINT_CONFLICT',
      `Checkpoint "${checkpoint}" is at ${actual === undefined ? 'no position' : `position "${actual}"`}, but the writer expected "${expected}". Another instance may be running this projection; run one writer per checkpoint and restart this one.`,
    );
    this.name = 'CheckpointConflictError';
    this.checkpoint = checkpoint;
    this.expected = expected;
    this.actual = actual;
  }
}

/**
 * A projection handler failed. The projection stopped at this event instead of skipping it; fix the handler (or
 * the data) and start the projection again, which resumes from its last checkpoint. The handler's error is `cause`.
 *
 * @example
 * ```ts
 * startProjection(taskBoard, { store, checkpoints, model, onError: (error) => {
 *   if (error instanceof ProjectionError) alert(`${error.projection} stopped at ${error.position}`);
 * } });
 * ```
 */
export class ProjectionError extends RelaybusError {
  /** The projection's name. */
  readonly projection: string;
  /** The type of the event whose handler failed. */
  readonly eventType: string;
  /** The event's global position. */
  readonly position: string;
  /** The event's stream. */
  readonly stream: string;
  /** The event's version in its stream. */
  readonly streamVersion: number;

  constructor(
    projection: string,
    event: { type: string; position: string; stream: string; streamVersion: number },
    cause: unknown,
  ) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(
      'PROJECTION_FAILED',
      `Projection "${projection}" stopped at "${event.type}" (position ${event.position}, stream "${event.stream}" version ${event.streamVersion}): ${reason}. Fix the handler and restart; it resumes from its last checkpoint.`,
      { cause },
    );
    this.name = 'ProjectionError';
    this.projection = projection;
    this.eventType = event.type;
    this.position = event.position;
    this.stream = event.stream;
    this.streamVersion = event.streamVersion;
  }
}

/**
 * A stream holds an event type that the aggregate's definition does not list, so its state cannot be rebuilt.
 *
 * @example
 * ```ts
 * try { await loadAggregate(store, Task, 't1'); } catch (error) {
 *   if (error instanceof UnknownStreamEventError) console.log(error.stream, error.streamVersion, error.eventType);
 * }
 * ```
 */
export class UnknownStreamEventError extends RelaybusError {
  /** The stream that was read. */
  readonly stream: string;
  /** Version of the unknown event in the stream. */
  readonly streamVersion: number;
  /** The unknown type. */
  readonly eventType: string;
  /** The types the reader knows. */
  readonly known: ReadonlyArray<string>;

  constructor(
    reader: string,
    stream: string,
    streamVersion: number,
    eventType: string,
    known: ReadonlyArray<string>,
  ) {
    super(
      'UNKNOWN_EVENT',
      `Stream "${stream}" has an event of unknown type "${eventType}" at version ${streamVersion}. Add its definition to the events of ${reader}; known types: ${known.map((t) => `"${t}"`).join(', ') || 'none'}.`,
    );
    this.name = 'UnknownStreamEventError';
    this.stream = stream;
    this.streamVersion = streamVersion;
    this.eventType = eventType;
    this.known = known;
  }
}

/** Turns any thrown value into an `Error`, wrapping non-errors in {@link HandlerError}. */
export function toError(thrown: unknown, eventType: string): Error {
  return thrown instanceof Error ? thrown : new HandlerError(eventType, thrown);
}

function formatPath(path: ReadonlyArray<PropertyKey>): string {
  if (path.length === 0) return '(root)';
  return path
    .map((segment) => (typeof segment === 'symbol' ? segment.toString() : String(segment)))
    .join('.');
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

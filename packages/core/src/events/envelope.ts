/**
 * A string map carried with every event, for application headers (tenant, user agent, feature flags).
 *
 * @example
 * ```ts
 * const metadata: Metadata = { tenant: 'acme' };
 * ```
 */
export type Metadata = Record<string, string>;

/**
 * An event as it travels: identity, type, schema version, provenance, tracing links and the validated payload.
 * Aligned with CloudEvents 1.0 (see {@link toCloudEvent}). Stored or delivered events also carry `position`, and
 * members of a stream carry `stream` and `streamVersion`.
 *
 * @example
 * ```ts
 * const event: Envelope<'task.created', { taskId: string }> = TaskCreated.create({ taskId: 't1', title: 'Write' });
 * console.log(event.id, event.type, event.data.taskId);
 * ```
 */
export interface Envelope<TType extends string = string, TData = unknown> {
  /** Unique id (UUIDv7): time-ordered, and the key for deduplication. */
  readonly id: string;
  /** The event type, for example `task.created`. Also the topic it is published on. */
  readonly type: TType;
  /** Schema version of `data`. Older versions are upcast on read. */
  readonly version: number;
  /** When the event was created, ISO 8601 in UTC. */
  readonly time: string;
  /** Who produced the event (a service name or URI). */
  readonly source: string;
  /** The entity the event is about, usually an aggregate id. */
  readonly subject?: string;
  /** Ordering key: events with the same key are handled in publish order within a group, where the transport orders by key. */
  readonly key?: string;
  /** Id shared by every event caused, directly or not, by the same original request. */
  readonly correlationId?: string;
  /** Id of the event whose handler published this one. */
  readonly causationId?: string;
  /** W3C trace context of the span that published the event. */
  readonly traceparent?: string;
  /** Application headers. */
  readonly metadata: Metadata;
  /** The validated payload. */
  readonly data: TData;
  /** Totally ordered position in the store or transport (an opaque, JSON-safe string). */
  readonly position?: string;
  /** The stream the event was appended to. */
  readonly stream?: string;
  /** Version of `stream` after this event (1 for the first event of a stream). */
  readonly streamVersion?: number;
}

/**
 * The optional envelope fields a publisher may set.
 *
 * @example
 * ```ts
 * TaskCreated.create(data, { subject: data.taskId, correlationId: request.id });
 * ```
 */
export interface EnvelopeOptions {
  /** Override the generated id (for example to make a retried publish idempotent). */
  id?: string;
  /** The entity the event is about. */
  subject?: string;
  /** Ordering key; defaults to the definition's `key(data)`, else `subject`. */
  key?: string;
  /** Correlation id; defaults to the event's own id for an event that starts a chain. */
  correlationId?: string;
  /** Id of the event that caused this one. */
  causationId?: string;
  /** W3C trace context. */
  traceparent?: string;
  /** Application headers. */
  metadata?: Metadata;
  /** Producer name; defaults to the bus's `source`. */
  source?: string;
  /** Creation time; defaults to now. */
  time?: Date | string;
}

import type { AnyEventDefinition, EventInput, EventOf } from '../events/define-event';
import type { Envelope, Metadata } from '../events/envelope';
import type { Logger } from '../logger';
import type { Middleware } from '../middleware/middleware';
import type { EventStore, ExpectedVersion } from '../store/event-store';
import type { TopicMatches } from '../transport/topic-pattern';
import type { DeadLetterQueue, Transport } from '../transport/transport';
import type { RetryOptions } from './retry';

/**
 * Options for {@link createEventBus}.
 *
 * @example
 * ```ts
 * const bus = createEventBus({ events: [TaskCreated, TaskCompleted], source: 'task-api' });
 * ```
 */
export interface EventBusOptions<TEvents extends ReadonlyArray<AnyEventDefinition>> {
  /** The catalog: every event type this bus publishes or consumes. */
  events: TEvents;
  /**
   * Where events travel.
   * @defaultValue a new `memoryTransport()`
   */
  transport?: Transport;
  /**
   * When given, every published event is appended to this store (in its stream, with optimistic concurrency when
   * `expectedVersion` is passed) before it reaches the transport, and delivered events carry their `position`.
   */
  store?: EventStore;
  /**
   * The stream a published event is appended to.
   * @defaultValue the event's `subject`, else its `type`
   */
  streamOf?: (event: Envelope) => string;
  /**
   * `source` of published envelopes (a service name or URI).
   * @defaultValue 'relaybus'
   */
  source?: string;
  /**
   * Where the bus reports retries, dead letters and failures.
   * @defaultValue {@link consoleLogger} (warnings and errors only)
   */
  logger?: Logger;
  /**
   * Validate payloads against their schema on publish and/or on consume. Turn one side off only when the other
   * side is trusted to have done it.
   * @defaultValue `{ publish: true, consume: true }`
   */
  validate?: { publish?: boolean; consume?: boolean };
  /** Defaults for every subscription; each subscription may override them. */
  defaults?: Pick<SubscribeOptions, 'concurrency' | 'retry' | 'timeoutMs' | 'visibilityTimeoutMs'>;
}

/**
 * Per-call options of `publish`.
 *
 * @example
 * ```ts
 * await bus.publish(TaskCreated, data, { subject: data.taskId, delayMs: 5_000, metadata: { tenant: 'acme' } });
 * ```
 */
export interface PublishOptions {
  /** Use this id instead of a new UUIDv7 (a retried publish with the same id can then be deduplicated). */
  id?: string;
  /** The entity the event is about (an aggregate id). */
  subject?: string;
  /** Ordering key; defaults to the definition's `key(data)`, then to `subject`. */
  key?: string;
  /** Correlation id of the request that led to this event. */
  correlationId?: string;
  /** Id of the event that caused this one. */
  causationId?: string;
  /** W3C trace context; set by the tracing middleware. */
  traceparent?: string;
  /** With a store: the append's optimistic concurrency check (see `ExpectedVersion`). */
  expectedVersion?: ExpectedVersion;
  /** Deliver no earlier than this many milliseconds from now. Needs a transport with the `delay` capability. */
  delayMs?: number;
  /** Application headers. */
  metadata?: Metadata;
}

/**
 * Options of `subscribe`.
 *
 * @example
 * ```ts
 * bus.subscribe('task.*', handler, { group: 'audit', concurrency: 8, retry: { attempts: 3 }, timeoutMs: 10_000 });
 * ```
 */
export interface SubscribeOptions {
  /**
   * Consumer group. Subscribers of one group share the work: each event is handled once per group (at least
   * once). Without a group, the subscriber sees every event published after it subscribed.
   */
  group?: string;
  /**
   * Handlers running at once for this subscriber.
   * @defaultValue 1
   */
  concurrency?: number;
  /** Retry policy before dead-lettering. */
  retry?: RetryOptions;
  /**
   * Longest a handler may run; then its `ctx.signal` aborts and the attempt fails with `HandlerTimeoutError`.
   * Checked by one shared timer, so the abort may come up to a quarter of `timeoutMs` late.
   * @defaultValue 30000
   */
  timeoutMs?: number;
  /**
   * How long the transport waits for an unsettled delivery before giving it to another consumer.
   * @defaultValue `timeoutMs` + 5000
   */
  visibilityTimeoutMs?: number;
  /** Aborting it closes the subscription. */
  signal?: AbortSignal;
}

/**
 * The context a handler receives with each event.
 *
 * @example
 * ```ts
 * bus.subscribe(TaskCreated, async (event, ctx) => {
 *   await fetch(url, { signal: ctx.signal });
 *   await ctx.publish(TaskIndexed, { taskId: event.data.taskId }); // causation and correlation set for you
 * });
 * ```
 */
export interface HandlerContext<TEvents extends AnyEventDefinition = AnyEventDefinition> {
  /** 1 for the first delivery, incremented on each retry. */
  readonly attempt: number;
  /** Aborted on timeout, lost lease or shutdown: pass it to I/O. */
  readonly signal: AbortSignal;
  /** The bus's logger. */
  readonly logger: Logger;
  /** The subscription's consumer group, if any. */
  readonly group: string | undefined;
  /** Publishes an event caused by the one being handled (sets `causationId`, carries `correlationId`). */
  publish<E extends TEvents>(event: E, data: EventInput<E>, options?: PublishOptions): Promise<EventOf<E>>;
}

/**
 * A function that handles events.
 *
 * @example
 * ```ts
 * const onCreated: Handler<EventOf<typeof TaskCreated>> = async (event) => { await index(event.data); };
 * ```
 */
export type Handler<TEvent extends Envelope, TEvents extends AnyEventDefinition = AnyEventDefinition> = (
  event: TEvent,
  ctx: HandlerContext<TEvents>,
) => void | Promise<void>;

/**
 * What `subscribe` accepts: a definition, a list of definitions, or an event type / AMQP topic pattern.
 *
 * @example
 * ```ts
 * const target: SubscribeTarget<typeof TaskCreated | typeof TaskCompleted> = 'task.*';
 * ```
 */
export type SubscribeTarget<TEvents extends AnyEventDefinition> = TEvents | ReadonlyArray<TEvents> | string;

type MatchingDefinitions<
  TEvents extends AnyEventDefinition,
  TPattern extends string,
> = TEvents extends unknown
  ? string extends TEvents['type']
    ? TEvents
    : TopicMatches<TPattern, TEvents['type']> extends true
      ? TEvents
      : never
  : never;

/**
 * The envelope type a subscription target receives: the union of the catalog events it matches.
 *
 * @example
 * ```ts
 * type TaskEvents = TargetEvent<typeof TaskCreated | typeof ProjectCreated, 'task.*'>; // EventOf<typeof TaskCreated>
 * ```
 */
export type TargetEvent<TEvents extends AnyEventDefinition, TTarget> = TTarget extends string
  ? EventOf<MatchingDefinitions<TEvents, TTarget>>
  : TTarget extends ReadonlyArray<infer D>
    ? EventOf<D>
    : EventOf<TTarget>;

/**
 * A live subscription. Close it (or `await using` it) to stop receiving events.
 *
 * @example
 * ```ts
 * const sub = bus.subscribe(TaskCreated, handler, { group: 'mail' });
 * await sub.ready;
 * await sub.close();
 * ```
 */
export interface Subscription extends AsyncDisposable {
  /** The consumer group, if any. */
  readonly group: string | undefined;
  /** Resolves when the transport has registered the subscription; rejects if it could not. */
  readonly ready: Promise<void>;
  /** Stops taking events and waits up to `timeoutMs` for running handlers. */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

/**
 * The event bus: validated publish, typed subscribe, middleware, dead letters and a bounded close.
 *
 * @example
 * ```ts
 * const bus = createEventBus({ events: [TaskCreated] });
 * bus.subscribe(TaskCreated, (event) => console.log(event.data.title));
 * await bus.publish(TaskCreated, { taskId: 't1', title: 'Write docs' });
 * await bus.close();
 * ```
 */
export interface EventBus<TEvents extends AnyEventDefinition = AnyEventDefinition> extends AsyncDisposable {
  /** The transport events travel on. */
  readonly transport: Transport;
  /** The event store published events are appended to, if any. */
  readonly store: EventStore | undefined;
  /** The dead letters of this bus's transport: list, redrive, purge. */
  readonly deadLetters: DeadLetterQueue;
  /**
   * Validates `data`, wraps it in an envelope, runs the publish middleware and hands it to the transport.
   * Resolves with the envelope once the transport accepted it.
   * @throws {@link ValidationError}, {@link UnknownEventError}, {@link InvalidOptionError}, {@link ClosedError}
   */
  publish<E extends TEvents>(event: E, data: EventInput<E>, options?: PublishOptions): Promise<EventOf<E>>;
  /**
   * Subscribes a handler to a definition, a list of definitions, or a type pattern such as `task.*`.
   * @throws {@link UnknownEventError}, {@link InvalidPatternError}, {@link InvalidOptionError}, {@link ClosedError}
   */
  subscribe<const TTarget extends SubscribeTarget<TEvents>>(
    target: TTarget,
    handler: Handler<TargetEvent<TEvents, TTarget>, TEvents>,
    options?: SubscribeOptions,
  ): Subscription;
  /** Adds middleware; the first added is the outermost. Returns the bus for chaining. */
  use(middleware: Middleware): this;
  /**
   * Stops taking work, waits up to `timeoutMs` for running handlers, then closes the transport.
   * Handlers still running then are aborted and their events left for redelivery.
   */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

import type { AnyEventDefinition, EventInput, EventOf } from '../events/define-event';
import type { Envelope, Metadata } from '../events/envelope';
import type { Logger } from '../logger';
import type { Middleware } from '../middleware/middleware';
import type { EventStore, ExpectedVersion } from '../store/event-store';
import type { TopicMatches } from '../transport/topic-pattern';
import type { DeadLetterQueue, StartFrom, Transport } from '../transport/transport';
import type { RetryOptions } from './retry';

/**
 * Options for {@link createEventBus}.
 *
 * @example
 * ```ts
 * const bus = createEventBus({ events: [TaskCreated, TaskCompleted], source: 'task-api' });
 * ```
 */
export interface EventBusOptions<TEvents extends ReadonlyArray<AnyEventDefinition>, TTransaction = never> {
  /** The catalog: every event type this bus publishes or consumes. */
  events: TEvents;
  /**
   * Where events travel.
   * @defaultValue a new `memoryTransport()`
   */
  transport?: Transport;
  /**
   * When given, every published event is appended to this store (in its stream, with optimistic concurrency when
   * `expectedVersion` is passed), and delivered events carry their `position`. Who then sends it to the transport
   * depends on the store:
   *
   * - a store that is not an outbox (`memoryEventStore()`): the bus, right after the append;
   * - an outbox store (`store.outbox`, such as `postgresEventStore()`): only the relay that reads it
   *   (`createOutboxRelay`), so each event reaches each group once. `publish(..., { transaction })` appends inside
   *   your own database transaction.
   */
  store?: EventStore<TTransaction>;
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
  defaults?: Pick<
    SubscribeOptions,
    'concurrency' | 'retry' | 'timeoutMs' | 'visibilityTimeoutMs' | 'startFrom'
  >;
}

/**
 * Per-call options of `publish`.
 *
 * @example
 * ```ts
 * await bus.publish(TaskCreated, data, { subject: data.taskId, delayMs: 5_000, metadata: { tenant: 'acme' } });
 * ```
 */
export interface PublishOptions<TTransaction = never> {
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
  /**
   * Append the event inside this database transaction of yours (a `pg` client after `BEGIN`, for the Postgres
   * store): it is delivered once the transaction commits, and never if it rolls back. Needs an outbox store
   * (`store.outbox`); the publish middleware runs as for any publish. The type is the store's transaction type, so
   * passing one to a bus without such a store does not compile.
   */
  transaction?: TTransaction;
  /**
   * Deliver no earlier than this many milliseconds from now. Needs a transport with the `delay` capability, and a
   * bus that sends directly (an outbox relay delivers as soon as it reads the event).
   */
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
   * once). Without a group, the subscriber sees every event published after it subscribed. Letters, digits and
   * `_.:-`, starting with a letter or digit, at most 128 characters (the rule every transport shares).
   */
  group?: string;
  /**
   * Where the group starts if this subscribe creates it: `'earliest'` handles every event the transport still
   * retains (on Redis, what its retention kept), so a worker deployed after the publisher misses nothing;
   * `'latest'` only events published from now on. A group that exists keeps its position. Groups only.
   * @defaultValue 'earliest'
   */
  startFrom?: StartFrom;
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
export interface HandlerContext<
  TEvents extends AnyEventDefinition = AnyEventDefinition,
  TTransaction = never,
> {
  /** 1 for the first delivery, incremented on each retry. */
  readonly attempt: number;
  /** Aborted on timeout, lost lease or shutdown: pass it to I/O. */
  readonly signal: AbortSignal;
  /** The bus's logger. */
  readonly logger: Logger;
  /** The subscription's consumer group, if any. */
  readonly group: string | undefined;
  /** Publishes an event caused by the one being handled (sets `causationId`, carries `correlationId`). */
  publish<E extends TEvents>(
    event: E,
    data: EventInput<E>,
    options?: PublishOptions<TTransaction>,
  ): Promise<EventOf<E>>;
}

/**
 * A function that handles events. Its return value is ignored; a returned promise is awaited, and a rejection
 * counts as a failure (retried, then dead-lettered).
 *
 * @example
 * ```ts
 * const onCreated: Handler<EventOf<typeof TaskCreated>> = async (event) => { await index(event.data); };
 * ```
 */
export type Handler<
  TEvent extends Envelope,
  TEvents extends AnyEventDefinition = AnyEventDefinition,
  TTransaction = never,
> = (event: TEvent, ctx: HandlerContext<TEvents, TTransaction>) => unknown;

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
 * Refuses, at compile time, a literal event type or pattern that matches no event of the catalog (such as
 * `'TASK.*'` when the types are lowercase): the argument then fails to type-check with this message. Any other
 * target is left as it is.
 *
 * @example
 * ```ts
 * bus.subscribe('TASK.*', handler); // error: ... is not assignable to ... { error: 'matches no event type of the catalog' }
 * ```
 */
export type ValidTarget<TEvents extends AnyEventDefinition, TTarget> = TTarget extends string
  ? string extends TTarget
    ? unknown
    : [MatchingDefinitions<TEvents, TTarget>] extends [never]
      ? { readonly error: 'matches no event type of the catalog' }
      : unknown
  : unknown;

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
 * Where a subscription stands. `starting`: registering with the transport; `retrying`: the transport could not be
 * reached, and registering is retried with backoff until it works or the subscription is closed (see `lastError`);
 * `active`: registered, events flow; `failed`: the transport refused it for good (see `lastError`); `closing`,
 * `closed`.
 *
 * @example
 * ```ts
 * app.get('/healthz', (req, res) => res.status(sub.state === 'active' ? 200 : 503).end());
 * ```
 */
export type SubscriptionState = 'starting' | 'retrying' | 'active' | 'failed' | 'closing' | 'closed';

/**
 * A subscription. Close it (or `await using` it) to stop receiving events.
 *
 * @example
 * ```ts
 * const sub = await bus.subscribe(TaskCreated, handler, { group: 'mail' });
 * console.log(sub.state); // 'active'
 * await sub.close();
 * ```
 */
export interface Subscription extends AsyncDisposable {
  /** The consumer group, if any. */
  readonly group: string | undefined;
  /** Where the subscription stands, for health checks. */
  readonly state: SubscriptionState;
  /** The last error registering met (while `retrying`, or what made it `failed`). */
  readonly lastError: Error | undefined;
  /**
   * Resolves once the transport has registered the subscription: an event published after that is never missed.
   * While the transport cannot be reached it stays pending (registering is retried); it rejects when the transport
   * refuses the subscription for good, or when the subscription is closed first (`ClosedError`).
   */
  readonly ready: Promise<void>;
  /** Stops taking events and waits up to `timeoutMs` for running handlers. */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

/**
 * What `subscribe` returns: a {@link Subscription} you can use at once, which is also awaitable. `await` it to wait
 * until the transport has registered it (it resolves with the subscription), so that an event you publish next is
 * never missed.
 *
 * @example
 * ```ts
 * const sub = await bus.subscribe(TaskCreated, handler, { group: 'mail' }); // registered
 * await bus.publish(TaskCreated, data); // reaches group "mail"
 * ```
 */
export interface PendingSubscription extends Subscription, PromiseLike<Subscription> {}

/**
 * What `declareGroup` takes besides the target.
 *
 * @example
 * ```ts
 * await bus.declareGroup(TaskCreated, { group: 'mailer', startFrom: 'latest' });
 * ```
 */
export interface DeclareGroupOptions {
  /** The group's name (the same rule as `subscribe`'s `group`). */
  group: string;
  /**
   * Where the group starts if this call creates it.
   * @defaultValue 'earliest'
   */
  startFrom?: StartFrom;
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
export interface EventBus<TEvents extends AnyEventDefinition = AnyEventDefinition, TTransaction = never>
  extends AsyncDisposable {
  /** The transport events travel on. */
  readonly transport: Transport;
  /** The event store published events are appended to, if any. */
  readonly store: EventStore<TTransaction> | undefined;
  /** The dead letters of this bus's transport: list, redrive, purge. */
  readonly deadLetters: DeadLetterQueue;
  /**
   * Validates `data`, wraps it in an envelope, runs the publish middleware, then appends it to the store (if any)
   * and hands it to the transport (unless the store is an outbox, whose relay does that). Resolves with the
   * envelope once the transport accepted it, or, with an outbox store, once it is appended (in `transaction`, when
   * given).
   * @throws {@link ValidationError}, {@link UnknownEventError}, {@link InvalidOptionError}, {@link ClosedError}
   */
  publish<E extends TEvents>(
    event: E,
    data: EventInput<E>,
    options?: PublishOptions<TTransaction>,
  ): Promise<EventOf<E>>;
  /**
   * Subscribes a handler to a definition, a list of definitions, or a type pattern such as `task.*`. Returns the
   * subscription at once; `await` it to wait until the transport has registered it.
   * @throws {@link UnknownEventError}, {@link InvalidPatternError}, {@link InvalidOptionError}, {@link ClosedError}
   */
  subscribe<const TTarget extends SubscribeTarget<TEvents>>(
    target: TTarget & ValidTarget<TEvents, TTarget>,
    handler: Handler<TargetEvent<TEvents, TTarget>, TEvents, TTransaction>,
    options?: SubscribeOptions,
  ): PendingSubscription;
  /**
   * Creates a consumer group for these events ahead of its workers, so it keeps everything published from now on
   * (see `Transport.declareGroup`). Idempotent; run it at deploy time or when the publishing side starts.
   * @throws {@link UnknownEventError}, {@link InvalidPatternError}, {@link InvalidOptionError}, {@link ClosedError},
   * and the transport's errors (such as `TransportUnavailableError`).
   */
  declareGroup<const TTarget extends SubscribeTarget<TEvents>>(
    target: TTarget & ValidTarget<TEvents, TTarget>,
    options: DeclareGroupOptions,
  ): Promise<void>;
  /** Adds middleware; the first added is the outermost. Returns the bus for chaining. */
  use(middleware: Middleware): this;
  /**
   * Stops taking work, waits up to `timeoutMs` for running handlers, then closes the transport.
   * Handlers still running then are aborted and their events left for redelivery.
   */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

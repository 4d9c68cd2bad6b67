import type { JobBackend } from '../jobs/backend';

/**
 * What a transport can do. The bus and the conformance suite switch behaviour and scenarios on these flags.
 *
 * @example
 * ```ts
 * if (!transport.capabilities.delay) throw new Error('this app needs delayed delivery');
 * ```
 */
export interface TransportCapabilities {
  /** Messages survive the process that published them. */
  readonly durable: boolean;
  /** Consumer groups: each message is handled once per group, members share the work. */
  readonly groups: boolean;
  /** `delayMs` on publish and on nack. */
  readonly delay: boolean;
  /** Messages with the same key are handed out in publish order within a group, one at a time. */
  readonly orderedByKey: boolean;
  /**
   * Whether `transport.deadLetters` lists, redrives and purges dead letters. `false` for a transport that hands
   * dead-lettered messages to its broker's own mechanism (a dead-letter exchange or queue, managed with the broker's
   * tools): its `deadLetters` methods reject with a `TransportError` of code `UNSUPPORTED` that says where the letters
   * went, and the conformance suite skips the listing tests. Absent means `true`. An adapter without listing can
   * build it with `createDeadLetter` and `selectDeadLetters` from `@relaybus/core/transport-kit` over any storage.
   * @defaultValue true
   */
  readonly deadLetters?: boolean;
}

/**
 * One message as a transport carries it. `body` is the envelope (the memory transport passes the object through;
 * network transports serialise it).
 *
 * @example
 * ```ts
 * await transport.publish([{ id: event.id, topic: event.type, key: event.key, body: event }]);
 * ```
 */
export interface TransportMessage {
  /** Unique message id (the event id). */
  readonly id: string;
  /** Topic: the event type. */
  readonly topic: string;
  /** Ordering key. */
  readonly key?: string;
  /**
   * The payload: an envelope object, or its serialised form as received from the wire. What a consumer receives
   * is JSON-equal to what was published (the bus decodes strings and bytes).
   */
  readonly body: unknown;
  /** Deliver no earlier than this many milliseconds after publishing. */
  readonly delayMs?: number;
}

/**
 * Why a message was dead-lettered.
 *
 * @example
 * ```ts
 * const reason: DeadLetterReason = 'MAX_ATTEMPTS';
 * ```
 */
export type DeadLetterReason =
  | 'MAX_ATTEMPTS'
  | 'NON_RETRYABLE'
  | 'VALIDATION_FAILED'
  | 'INVALID_ENVELOPE'
  | 'UNKNOWN_EVENT'
  | 'REJECTED';

/**
 * An error as kept with a dead letter: plain data, so it survives serialisation.
 *
 * @example
 * ```ts
 * const info: SerializedError = { name: 'TypeError', message: 'x is undefined' };
 * ```
 */
export interface SerializedError {
  /** Error class name. */
  readonly name: string;
  /** Error message. */
  readonly message: string;
  /** relaybus error code, when it was a `RelaybusError`. */
  readonly code?: string;
  /** Stack trace, when there was one. */
  readonly stack?: string;
}

/**
 * What the consumer says when it gives up on a message.
 *
 * @example
 * ```ts
 * await delivery.deadLetter({ reason: 'MAX_ATTEMPTS', error: serializeError(error) });
 * ```
 */
export interface DeadLetterInput {
  /** Why the message is given up. */
  readonly reason: DeadLetterReason;
  /** The last error. */
  readonly error: SerializedError;
}

/**
 * A message that could not be handled, kept with the reason, the last error, attempts and timestamps.
 *
 * @example
 * ```ts
 * for (const letter of await bus.deadLetters.list()) console.log(letter.reason, letter.error.message);
 * ```
 */
export interface DeadLetter {
  /** Id of this dead-letter entry (used to redrive or purge it). */
  readonly id: string;
  /** The message as it was received. */
  readonly message: TransportMessage;
  /** Group the message failed in; absent for group-less subscribers. */
  readonly group?: string;
  /** Why it was given up. */
  readonly reason: DeadLetterReason;
  /** The last error. */
  readonly error: SerializedError;
  /** Delivery attempts made. */
  readonly attempts: number;
  /** First delivery, ISO 8601. */
  readonly firstAttemptAt: string;
  /** Last delivery, ISO 8601. */
  readonly lastAttemptAt: string;
  /** When it was dead-lettered, ISO 8601. */
  readonly deadLetteredAt: string;
}

/**
 * Selects dead letters to list, redrive or purge.
 *
 * @example
 * ```ts
 * await bus.deadLetters.redrive({ group: 'notifications', topic: 'task.created' });
 * ```
 */
export interface DeadLetterFilter {
  /** Only these dead-letter ids. */
  readonly ids?: ReadonlyArray<string>;
  /** Only letters of this group. */
  readonly group?: string;
  /** Only letters of this topic. */
  readonly topic?: string;
  /** At most this many. */
  readonly limit?: number;
}

/**
 * The dead-letter list of a transport.
 *
 * @example
 * ```ts
 * const letters = await transport.deadLetters.list({ limit: 50 });
 * await transport.deadLetters.redrive({ ids: letters.map((l) => l.id) });
 * ```
 */
export interface DeadLetterQueue {
  /** Lists dead letters, oldest first. */
  list(filter?: DeadLetterFilter): Promise<DeadLetter[]>;
  /**
   * Sends dead letters back to the group they failed in (or to every subscriber, for group-less ones), with
   * attempts reset, and removes them from the list. Returns how many were redriven.
   */
  redrive(filter?: DeadLetterFilter): Promise<number>;
  /** Removes dead letters for good. Returns how many were removed. */
  purge(filter?: DeadLetterFilter): Promise<number>;
}

/**
 * One delivery of a message to a consumer. Settle it exactly once with `ack`, `nack` or `deadLetter`; a delivery
 * left unsettled past the visibility timeout is handed to another consumer and this one's `signal` aborts.
 *
 * @example
 * ```ts
 * await transport.subscribe({ topics: ['task.created'], group: 'mail' }, async (delivery) => {
 *   try { await send(delivery.message.body); await delivery.ack(); }
 *   catch { await delivery.nack({ delayMs: 1_000 }); }
 * });
 * ```
 */
export interface Delivery {
  /** The message. */
  readonly message: TransportMessage;
  /** 1 for the first delivery, incremented on every redelivery (nack or visibility timeout). */
  readonly attempt: number;
  /** When the message was first delivered (epoch milliseconds). */
  readonly firstAttemptAt: number;
  /** Aborted when this delivery's lease is lost (visibility timeout) or the subscription is closing. */
  readonly signal: AbortSignal;
  /** Marks the message handled. */
  ack(): void | Promise<void>;
  /** Hands the message back for redelivery, after `delayMs` when given. */
  nack(options?: { readonly delayMs?: number }): void | Promise<void>;
  /** Moves the message to the dead-letter list. */
  deadLetter(input: DeadLetterInput): void | Promise<void>;
}

/**
 * Where a consumer group that does not exist yet starts: `'earliest'` takes every message the transport still
 * retains for the group's topics, `'latest'` only messages published from then on. A group that exists keeps its
 * own position whatever a later subscriber asks.
 *
 * @example
 * ```ts
 * bus.subscribe(TaskCreated, handler, { group: 'search-indexer', startFrom: 'latest' });
 * ```
 */
export type StartFrom = 'earliest' | 'latest';

/**
 * A consumer group declared ahead of its workers, by {@link Transport.declareGroup}: from then on it keeps every
 * message of its topics until a member handles it.
 *
 * @example
 * ```ts
 * await transport.declareGroup({ group: 'mailer', topics: ['user.created'], startFrom: 'latest' });
 * ```
 */
export interface GroupDeclaration {
  /** The group's name (letters, digits and `_.:-`, starting with a letter or digit; at most 128 characters). */
  readonly group: string;
  /** Exact topics the group receives. Give `topics`, `pattern`, or both. */
  readonly topics?: ReadonlyArray<string>;
  /** An AMQP-style pattern of topics the group receives, matched against topics that exist now or later. */
  readonly pattern?: string;
  /**
   * Where the group starts if this call creates it.
   * @defaultValue 'earliest'
   */
  readonly startFrom?: StartFrom;
}

/**
 * How to subscribe to a transport.
 *
 * @example
 * ```ts
 * const options: TransportSubscribeOptions = { pattern: 'task.*', group: 'audit', concurrency: 8 };
 * ```
 */
export interface TransportSubscribeOptions {
  /** Exact topics to receive. Give `topics`, `pattern`, or both (their union is received). */
  readonly topics?: ReadonlyArray<string>;
  /** An AMQP-style topic pattern (`*` one word, `#` zero or more), matched against topics that exist now or later. */
  readonly pattern?: string;
  /**
   * Consumer group; without one, the subscriber receives every message published after it subscribed. A group
   * exists from its first subscribe (or {@link Transport.declareGroup}) on and keeps every message of the topics its
   * members subscribed to until a member handles it (also while no member is connected). Each member receives only
   * messages matching its own `topics` / `pattern`. Letters, digits and `_.:-`, starting with a letter or digit, at
   * most 128 characters: the same rule on every transport.
   */
  readonly group?: string;
  /**
   * Where the group starts when this subscribe creates it (see {@link StartFrom}); ignored for a group that exists.
   * Only for groups: a group-less subscriber always starts at the latest message.
   * @defaultValue 'earliest'
   */
  readonly startFrom?: StartFrom;
  /**
   * Most deliveries handed to this subscriber at once.
   * @defaultValue 1
   */
  readonly concurrency?: number;
  /**
   * How long a delivery may stay unsettled before it is handed to another consumer.
   * @defaultValue 30000
   */
  readonly visibilityTimeoutMs?: number;
  /** Aborting it closes the subscription. */
  readonly signal?: AbortSignal;
}

/**
 * A live transport subscription.
 *
 * @example
 * ```ts
 * await using sub = await transport.subscribe({ topics: ['a'] }, handler);
 * ```
 */
export interface TransportSubscription extends AsyncDisposable {
  /**
   * Stops taking new deliveries and waits for in-flight ones to settle, for at most `timeoutMs`. Deliveries still
   * unsettled then have their signal aborted and are left for redelivery.
   */
  close(options?: { readonly timeoutMs?: number }): Promise<void>;
}

/**
 * The contract every transport implements. Declared in core; the memory transport and adapter packages
 * implement it, and `describeTransportConformance` from `@relaybus/core/testing` checks it.
 *
 * @example
 * ```ts
 * const transport: Transport = memoryTransport();
 * await transport.publish([{ id: '1', topic: 'task.created', body: event }]);
 * ```
 */
export interface Transport {
  /** A short name used in errors and logs, such as `memory` or `redis`. */
  readonly name: string;
  /** What this transport supports. */
  readonly capabilities: TransportCapabilities;
  /** Publishes a batch; resolves when every message is accepted (durably, for durable transports). */
  publish(messages: ReadonlyArray<TransportMessage>): Promise<void>;
  /**
   * Starts consuming; resolves once the subscription is registered, so a message published after it resolves is
   * never missed. Rejects with `InvalidOptionError` for bad options, with `TransportUnavailableError` when the broker
   * cannot be reached (the bus retries those), and with another `TransportError` when the broker refused.
   */
  subscribe(
    options: TransportSubscribeOptions,
    handler: (delivery: Delivery) => void | Promise<void>,
  ): Promise<TransportSubscription>;
  /**
   * Creates a consumer group ahead of any member, so that it keeps every message of its topics published from then
   * on (or, with `startFrom: 'earliest'`, every message still retained). Idempotent: a group that exists keeps its
   * position, and gains the declared topics. Run it at deploy time, or on the publishing side before the first
   * publish.
   */
  declareGroup(declaration: GroupDeclaration): Promise<void>;
  /**
   * The dead-letter list. On a transport whose `capabilities.deadLetters` is `false`, its methods reject with a
   * `TransportError` of code `UNSUPPORTED` naming where the broker keeps dead letters.
   */
  readonly deadLetters: DeadLetterQueue;
  /**
   * A job backend on the same broker, for `createJobQueue({ transport })`, when the transport offers one (the memory
   * and Redis transports do). Each call returns the same backend.
   */
  jobBackend?(): JobBackend;
  /** Closes every subscription (waiting for in-flight deliveries up to `timeoutMs`) and releases resources. */
  close(options?: { readonly timeoutMs?: number }): Promise<void>;
}

import type { Envelope, TopicMatches } from '@relaybus/core';
import type { LagMessage, NotResumedReason, Selector } from '../protocol';
import type { BridgeError } from './errors';

/**
 * Where the client stands. `connecting`: the first connection is being made; `open`: the server welcomed it and
 * events flow; `reconnecting`: the connection was lost (or the browser is offline, or the page hidden in the
 * back/forward cache) and will be made again; `closed`: by `close()`, or by the server for good.
 *
 * @example
 * ```ts
 * client.on('state', (state) => banner.toggle(state === 'reconnecting'));
 * ```
 */
export type ClientState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/**
 * What a subscription receives: event `types` and/or an AMQP-style `pattern` (`*` one word, `#` zero or more),
 * optionally narrowed to subjects and metadata values, and where to resume from.
 *
 * @example
 * ```ts
 * const selector: BridgeSelector<AppEvent> = { pattern: 'task.*', subject: taskId, from: savedPosition };
 * ```
 */
export interface BridgeSelector<TEvent extends Envelope = Envelope> extends Selector {
  /** Exact event types. Give `types`, `pattern`, or both (their union). */
  readonly types?: ReadonlyArray<TEvent['type']>;
  /**
   * Resume after this position (one a subscription saw before, say from storage): the server first replays what
   * matched since. Without it, the subscription starts live.
   */
  readonly from?: string;
}

/**
 * The members of `TEvent` whose type a literal pattern matches (all of them when a member's type is `string`).
 *
 * @example
 * ```ts
 * type TaskEvents = PatternEvent<AppEvent, 'task.*'>;
 * ```
 */
export type PatternEvent<TEvent extends Envelope, TPattern extends string> = TEvent extends unknown
  ? string extends TEvent['type']
    ? TEvent
    : TopicMatches<TPattern, TEvent['type']> extends true
      ? TEvent
      : never
  : never;

/**
 * The members of `TEvent` a selector type names: those of its `types`, and those its literal `pattern` matches. Used
 * by {@link SelectedEvent}.
 *
 * @example
 * ```ts
 * type Created = NarrowedEvent<AppEvent, { types: ['task.created'] }>;
 * ```
 */
export type NarrowedEvent<TEvent extends Envelope, TSelector> =
  | (TSelector extends { readonly types: ReadonlyArray<infer T> } ? Extract<TEvent, { type: T }> : never)
  | (TSelector extends { readonly pattern: infer P extends string }
      ? string extends P
        ? TEvent
        : PatternEvent<TEvent, P>
      : never);

/**
 * The events of the union `TEvent` that a selector receives: those of its `types` and those its `pattern` matches
 * (all of `TEvent` when the selector's type does not say).
 *
 * @example
 * ```ts
 * type TaskEvents = SelectedEvent<AppEvent, { pattern: 'task.*' }>; // the task.* members of AppEvent
 * ```
 */
export type SelectedEvent<TEvent extends Envelope, TSelector> = TSelector extends
  | { readonly types: unknown }
  | { readonly pattern: unknown }
  ? NarrowedEvent<TEvent, TSelector>
  : TEvent;

/**
 * How an event reached a subscription.
 *
 * @example
 * ```ts
 * client.subscribe({ types: ['task.created'] }, (event, { position, replayed }) => save(position));
 * ```
 */
export interface DeliveryInfo {
  /** The event's position in the server's store (absent when the server has none). */
  readonly position?: string;
  /** Whether the event was replayed from the store to catch up after `from`, rather than delivered live. */
  readonly replayed: boolean;
}

/**
 * A live subscription: close it (or `await using` it) to stop receiving events.
 *
 * @example
 * ```ts
 * const sub = client.subscribe({ pattern: 'task.#' }, render);
 * localStorage.setItem('position', sub.position ?? '');
 * sub.close();
 * ```
 */
export interface BridgeSubscription {
  /** The subscription's id on the connection. */
  readonly id: string;
  /** What it receives. */
  readonly selector: BridgeSelector;
  /**
   * The last position this subscription saw (from an event or a heartbeat): where it resumes after a reconnect.
   * Starts at `from`, else at the newest position the client had seen when it was created.
   */
  readonly position: string | undefined;
  /** Whether it was closed, by `close()` or because the server refused it. */
  readonly closed: boolean;
  /**
   * Settles once the server confirmed the subscription the first time (after its replay, with `from`): an event
   * published after that reaches it. Rejects with the `BridgeError` when the server refuses it for good.
   */
  readonly ready: Promise<void>;
  /** Stops the subscription. Idempotent. */
  close(): void;
  /** Same as `close()`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * The listeners `client.on` takes, by event name.
 *
 * @example
 * ```ts
 * const onResync: BridgeClientEvents['resync'] = (sub) => refetch(sub.selector);
 * ```
 */
export interface BridgeClientEvents {
  /** The client's {@link ClientState} changed. */
  state: (state: ClientState) => void;
  /**
   * The subscription may have missed events (the server could not resume it, or dropped events for this slow
   * client): refetch the state it feeds. Events keep flowing.
   */
  resync: (subscription: BridgeSubscription, reason: NotResumedReason | 'lag' | undefined) => void;
  /** An `error` frame, a failed `token` function, or a close code the client does not reconnect after. */
  error: (error: BridgeError) => void;
  /** The server dropped events because this client read too slowly (a `resync` follows per subscription). */
  lag: (lag: LagMessage) => void;
}

/**
 * A connection to a relaybus bridge that keeps itself alive, typed with the application's event union.
 *
 * @example
 * ```ts
 * const client: BridgeClient<AppEvent> = createBridgeClient<AppEvent>({ url: '/bridge' });
 * client.subscribe({ types: ['task.created'] }, (event) => addTask(event.data));
 * ```
 */
export interface BridgeClient<TEvent extends Envelope = Envelope> {
  /** Where the client stands. */
  readonly state: ClientState;
  /**
   * Starts receiving the events `selector` matches, from now (or after `selector.from`), across reconnects with no
   * gap: after a reconnect the subscription resumes after its `position`. Each event reaches `listener` once.
   *
   * @throws {@link BridgeError} `invalid_option` when the selector has neither `types` nor `pattern`, or the
   * pattern is malformed.
   */
  subscribe<const TSelector extends BridgeSelector<TEvent>>(
    selector: TSelector,
    listener: (event: SelectedEvent<TEvent, TSelector>, info: DeliveryInfo) => void,
  ): BridgeSubscription;
  /** Adds a listener; returns the function that removes it. */
  on<TName extends keyof BridgeClientEvents>(name: TName, listener: BridgeClientEvents[TName]): () => void;
  /** Closes the connection (code 1000) and stops reconnecting. Idempotent. */
  close(): void;
  /** Same as `close()`. */
  [Symbol.asyncDispose](): Promise<void>;
}

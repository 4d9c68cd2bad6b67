/**
 * The relaybus bridge protocol, version 1: JSON text frames over WebSocket (subprotocol {@link SUBPROTOCOL}), or the
 * same events over Server-Sent Events. This module is shared by the server and the browser client, so it holds
 * types and a few constants only.
 */

/**
 * The WebSocket subprotocol of this version. A client offers it (and may offer a bearer token as a second entry,
 * {@link BEARER_PREFIX} + token); the server selects it or refuses the upgrade.
 *
 * @example
 * ```ts
 * new WebSocket(url, [SUBPROTOCOL, `${BEARER_PREFIX}${token}`]);
 * ```
 */
export const SUBPROTOCOL = 'relaybus.v1';

/**
 * Prefix of the subprotocol entry that carries a bearer token at upgrade (tokens must be made of RFC 7230 token
 * characters, as JWTs in base64url are). Browsers cannot set an `Authorization` header on a WebSocket; a token in
 * the URL would land in access logs, so it is not read from there by default.
 *
 * @example
 * ```ts
 * const protocols = [SUBPROTOCOL, `${BEARER_PREFIX}eyJhbGciOi...`];
 * ```
 */
export const BEARER_PREFIX = 'relaybus.bearer.';

/**
 * Close codes, in ranges a client acts on mechanically: 4000-4099 do not reconnect; 4100-4199 reconnect after the
 * advised or a backoff delay; 4200-4299 reconnect at once (and resume).
 *
 * @example
 * ```ts
 * if (event.code >= 4000 && event.code < 4100) showSignIn();
 * ```
 */
export const CLOSE = {
  /** No valid credentials (at upgrade, in `hello`, or a refresh that failed). Do not reconnect with them. */
  unauthorized: 4001,
  /** The origin is not allowed, or the principal was revoked. Do not reconnect. */
  forbidden: 4003,
  /** The client broke the protocol (unsupported version, repeated malformed frames). Do not reconnect. */
  protocolError: 4005,
  /** The server is going away (shutdown, deploy): reconnect after `goodbye.retryAfterMs`. */
  goingAway: 4100,
  /** The server refused the connection for load (connection limit): reconnect with backoff. */
  overloaded: 4101,
  /** This client read too slowly and its queue filled up: reconnect now and resume. */
  slowConsumer: 4200,
  /** The credentials expired without a refresh: get fresh ones and reconnect now. */
  tokenExpired: 4201,
} as const;

/**
 * Error codes of `error` frames. `retry` on the frame says whether repeating the request can work.
 *
 * @example
 * ```ts
 * const code: ErrorCode = 'too_many_subscriptions';
 * ```
 */
export type ErrorCode =
  /** The frame is not valid JSON, or a field is missing or of the wrong type (`message` names it). */
  | 'bad_request'
  /** The `type` of the frame is not one this protocol version knows. */
  | 'unknown_message'
  /** The connection holds the most subscriptions the server allows. */
  | 'too_many_subscriptions'
  /** The subscription id is in use, or unknown (for `unsubscribe`). */
  | 'bad_subscription'
  /** `authorize` refused the subscription. */
  | 'forbidden'
  /** Requests arrive faster than the server allows. */
  | 'rate_limited'
  /** Not authenticated yet: send `hello` first. */
  | 'unauthenticated'
  /** The server failed; the message says what it can. */
  | 'internal';

/**
 * What a subscription receives: event types and/or an AMQP-style pattern (`*` one word, `#` zero or more), optionally
 * narrowed to subjects and metadata values.
 *
 * @example
 * ```ts
 * const selector: Selector = { pattern: 'task.*', subject: ['task-1', 'task-2'], metadata: { projectId: 'p1' } };
 * ```
 */
export interface Selector {
  /** Exact event types. Give `types`, `pattern`, or both (their union). */
  readonly types?: ReadonlyArray<string>;
  /** An AMQP-style topic pattern over event types. */
  readonly pattern?: string;
  /** Only events whose `subject` is this one, or one of these. */
  readonly subject?: string | ReadonlyArray<string>;
  /** Only events whose metadata has every one of these values. */
  readonly metadata?: Readonly<Record<string, string>>;
}

/**
 * Authenticates after the upgrade, when no credentials came with it. Must arrive within the server's deadline.
 *
 * @example
 * ```ts
 * const hello: HelloMessage = { type: 'hello', token: 'eyJhbGciOi...' };
 * ```
 */
export interface HelloMessage {
  readonly type: 'hello';
  readonly token: string;
}

/**
 * Starts a subscription. With `from` (a position this client saw, from an `event` or a `heartbeat`), the server first
 * replays every matching event after it from its store, then continues live with no gap and no duplicate at the
 * seam; the reply says whether it could (`resumed`).
 *
 * @example
 * ```ts
 * const frame: SubscribeMessage = { type: 'subscribe', id: 'r1', sub: 's1', pattern: 'task.*', from: '0000000000000042' };
 * ```
 */
export interface SubscribeMessage extends Selector {
  readonly type: 'subscribe';
  /** Request id, echoed in the reply. */
  readonly id: string;
  /** The subscription's id, chosen by the client, unique on the connection. */
  readonly sub: string;
  /** Resume after this position (`''`: from the start of the log). */
  readonly from?: string;
}

/**
 * Ends a subscription.
 *
 * @example
 * ```ts
 * const frame: UnsubscribeMessage = { type: 'unsubscribe', id: 'r2', sub: 's1' };
 * ```
 */
export interface UnsubscribeMessage {
  readonly type: 'unsubscribe';
  readonly id: string;
  readonly sub: string;
}

/**
 * Replaces the connection's credentials before they expire.
 *
 * @example
 * ```ts
 * const frame: RefreshMessage = { type: 'refresh', id: 'r3', token: freshToken };
 * ```
 */
export interface RefreshMessage {
  readonly type: 'refresh';
  readonly id: string;
  readonly token: string;
}

/**
 * Asks for a `pong` (the application-level ping; the server also pings at the WebSocket level).
 *
 * @example
 * ```ts
 * const frame: PingMessage = { type: 'ping', id: 'r4' };
 * ```
 */
export interface PingMessage {
  readonly type: 'ping';
  readonly id: string;
}

/**
 * Every frame a client sends.
 *
 * @example
 * ```ts
 * const frame: ClientMessage = { type: 'subscribe', id: 'r1', sub: 's1', pattern: 'task.*' };
 * ```
 */
export type ClientMessage =
  | HelloMessage
  | SubscribeMessage
  | UnsubscribeMessage
  | RefreshMessage
  | PingMessage;

/**
 * Sent once the connection is authenticated.
 *
 * @example
 * ```ts
 * const welcome: WelcomeMessage = { type: 'welcome', version: 1, heartbeatMs: 15_000, position: '0000000000000042' };
 * ```
 */
export interface WelcomeMessage {
  readonly type: 'welcome';
  /** The protocol version. */
  readonly version: 1;
  /** How often the server sends `heartbeat` while a connection is otherwise quiet, in milliseconds. */
  readonly heartbeatMs: number;
  /** When the credentials expire (epoch ms), if they do: `refresh` before then. */
  readonly expiresAt?: number;
  /**
   * The store's newest position, if the server has a store (a new client may subscribe `from` it); `''` while the
   * store is empty: the start of the log, before every position.
   */
  readonly position?: string;
}

/**
 * Why a subscription did not resume.
 *
 * @example
 * ```ts
 * if (frame.type === 'subscribed' && frame.reason === 'too_far_behind') refetchState();
 * ```
 */
export type NotResumedReason =
  /** The server has no event store to replay from. */
  | 'no_store'
  /** More events than the server replays (`maxReplayEvents`) happened since `from`: refetch state. */
  | 'too_far_behind'
  /** `from` is older than what the store still holds (pruned, or a restored log of another epoch). */
  | 'position_gone';

/**
 * The reply to `subscribe`.
 *
 * @example
 * ```ts
 * const reply: SubscribedMessage = { type: 'subscribed', id: 'r1', sub: 's1', resumed: true, replayed: 3, position: '0000000000000045' };
 * ```
 */
export interface SubscribedMessage {
  readonly type: 'subscribed';
  readonly id: string;
  readonly sub: string;
  /** With `from`: whether every event after it was (or is being) delivered. `false` means refetch state. */
  readonly resumed: boolean;
  /** Events replayed from the store before the live ones. */
  readonly replayed: number;
  readonly reason?: NotResumedReason;
  /**
   * The subscription receives the live events after this position (absent without a store): the position a client
   * resumes from if it has not seen an event or heartbeat since.
   */
  readonly position?: string;
}

/**
 * The reply to `unsubscribe`.
 *
 * @example
 * ```ts
 * const reply: UnsubscribedMessage = { type: 'unsubscribed', id: 'r2', sub: 's1' };
 * ```
 */
export interface UnsubscribedMessage {
  readonly type: 'unsubscribed';
  readonly id: string;
  readonly sub: string;
}

/**
 * The reply to `refresh`.
 *
 * @example
 * ```ts
 * const reply: RefreshedMessage = { type: 'refreshed', id: 'r3', expiresAt: Date.now() + 900_000 };
 * ```
 */
export interface RefreshedMessage {
  readonly type: 'refreshed';
  readonly id: string;
  readonly expiresAt?: number;
}

/**
 * The reply to `ping`.
 *
 * @example
 * ```ts
 * const reply: PongMessage = { type: 'pong', id: 'r4' };
 * ```
 */
export interface PongMessage {
  readonly type: 'pong';
  readonly id: string;
}

/**
 * One event. A live event goes to every live subscription of the connection that matches it (the client routes it):
 * the frame is the same for every client, so the server encodes it once per event. Live events arrive in `position`
 * order; a subscription that resumes gets its replayed events (with `sub`) in `position` order, then `subscribed`,
 * then live events after `subscribed.position`.
 *
 * @example
 * ```ts
 * const frame: EventMessage = { type: 'event', position: '0000000000000043', event: envelope };
 * ```
 */
export interface EventMessage<TEvent = unknown> {
  readonly type: 'event';
  /**
   * Set on replayed events only: the subscription replaying (the event goes to it alone). Live events carry no
   * `sub` and go to every live subscription that matches them and has not seen their position.
   */
  readonly sub?: string;
  /** The event's position in the store (absent without a store). */
  readonly position?: string;
  /** The envelope. */
  readonly event: TEvent;
}

/**
 * Sent while a connection is quiet, so a client's resume point moves on even when nothing matches it.
 *
 * @example
 * ```ts
 * const frame: HeartbeatMessage = { type: 'heartbeat', position: '0000000000000043' };
 * ```
 */
export interface HeartbeatMessage {
  readonly type: 'heartbeat';
  readonly position?: string;
}

/**
 * Events were dropped for this slow client (the `drop` backpressure policy): refetch state, or resume from `from`.
 *
 * @example
 * ```ts
 * const frame: LagMessage = { type: 'lag', dropped: 120, from: '0000000000000043' };
 * ```
 */
export interface LagMessage {
  readonly type: 'lag';
  /** How many events were dropped. */
  readonly dropped: number;
  /** The last position delivered before the gap. */
  readonly from?: string;
}

/**
 * A failed request (with its `id`), or a problem with a frame.
 *
 * @example
 * ```ts
 * const frame: ErrorMessage = { type: 'error', id: 'r1', code: 'forbidden', message: 'not allowed', retry: false };
 * ```
 */
export interface ErrorMessage {
  readonly type: 'error';
  readonly id?: string;
  readonly code: ErrorCode;
  readonly message: string;
  /** Whether repeating the request can work. */
  readonly retry: boolean;
}

/**
 * Sent before the server closes a connection on purpose, with the reason and a suggested reconnect delay.
 *
 * @example
 * ```ts
 * const frame: GoodbyeMessage = { type: 'goodbye', reason: 'the server is going away', retryAfterMs: 3_200 };
 * ```
 */
export interface GoodbyeMessage {
  readonly type: 'goodbye';
  readonly reason: string;
  /** Wait this long before reconnecting (already jittered per connection), in milliseconds. */
  readonly retryAfterMs: number;
}

/**
 * Every frame a server sends.
 *
 * @example
 * ```ts
 * socket.onmessage = (m) => { const frame = JSON.parse(m.data) as ServerMessage; };
 * ```
 */
export type ServerMessage =
  | WelcomeMessage
  | SubscribedMessage
  | UnsubscribedMessage
  | RefreshedMessage
  | PongMessage
  | EventMessage
  | HeartbeatMessage
  | LagMessage
  | ErrorMessage
  | GoodbyeMessage;

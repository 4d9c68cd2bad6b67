import type { Server as HttpServer, IncomingHttpHeaders } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { type Envelope, type EventStore, InvalidOptionError, type Logger } from '@relaybus/core';
import type { Selector } from '../protocol';

/**
 * Who is on a connection, as `authenticate` returns it: an `id` (what `revoke` takes) and, when the credentials
 * expire, `expiresAt` in epoch milliseconds. Anything else is yours, handed back to `authorize`.
 *
 * @example
 * ```ts
 * const principal: Principal = { id: 'user-1', expiresAt: Date.now() + 15 * 60_000 };
 * ```
 */
export interface Principal {
  readonly id: string;
  readonly expiresAt?: number;
}

/**
 * What `authenticate` sees of a connection attempt (or of a `hello` / `refresh` frame, which carry `token`).
 *
 * @example
 * ```ts
 * const authenticate = ({ token, cookies }: AuthRequest) => verify(token ?? cookies['session']);
 * ```
 */
export interface AuthRequest {
  /** The bearer token from the subprotocol entry, a `hello` or `refresh` frame, or the opt-in query parameter. */
  readonly token?: string;
  /** Cookies of the upgrade (or SSE) request; empty on `refresh`. */
  readonly cookies: Readonly<Record<string, string>>;
  /** Headers of the upgrade (or SSE) request; empty on `refresh` (a connection does not keep them). */
  readonly headers: IncomingHttpHeaders;
  /** The `Origin` header, if any. */
  readonly origin?: string;
  /** The peer's address. */
  readonly remoteAddress?: string;
  /** Why `authenticate` is called. */
  readonly phase: 'upgrade' | 'hello' | 'refresh' | 'sse';
}

/**
 * Per-subscription and per-event authorization. Both see the principal `authenticate` returned.
 *
 * @example
 * ```ts
 * const authorize: Authorizer<User> = {
 *   subscribe: (user, selector) => selector.metadata?.['projectId'] === undefined || user.projects.includes(selector.metadata['projectId']),
 *   event: (user, event) => user.projects.includes(event.metadata['projectId'] ?? ''),
 * };
 * ```
 */
export interface Authorizer<TPrincipal extends Principal> {
  /** Whether this principal may open a subscription with this selector. Refused: an `error` frame `forbidden`. */
  subscribe?(principal: TPrincipal, selector: Selector): boolean | Promise<boolean>;
  /** Whether this principal may see this event; asked for every delivery, live and replayed, so keep it fast. */
  event?(principal: TPrincipal, event: Envelope): boolean;
}

/**
 * What happens when a connection's send queue is full: `disconnect` closes it with `CLOSE.slowConsumer` (4200; the
 * client reconnects at once and resumes from its position), `drop` skips events and then sends `lag`.
 *
 * @example
 * ```ts
 * const backpressure: BackpressureOptions = { policy: 'drop', maxBytes: 256 * 1024, maxEvents: 500 };
 * ```
 */
export interface BackpressureOptions {
  /** `disconnect` (default) or `drop`. */
  policy?: 'disconnect' | 'drop';
  /** Bytes queued for one connection, beyond what the kernel holds, before the policy applies. Default 1 MiB. */
  maxBytes?: number;
  /** Frames queued for one connection before the policy applies. Default 1,000. */
  maxEvents?: number;
}

/**
 * Limits that keep one client, or a storm of them, from taking the server down.
 *
 * @example
 * ```ts
 * const limits: BridgeLimits = { maxConnections: 20_000, handshakesPerSecond: 1_000 };
 * ```
 */
export interface BridgeLimits {
  /** Open connections (WebSocket and SSE) at most; beyond, upgrades get HTTP 503. Default 10,000. */
  maxConnections?: number;
  /** Connection attempts handled per second; the rest wait in line. Default 500. */
  handshakesPerSecond?: number;
  /** Connection attempts that may wait in line; beyond, HTTP 503 with `Retry-After`. Default 10,000. */
  maxQueuedHandshakes?: number;
  /** Subscriptions per connection. Default 50. */
  maxSubscriptions?: number;
  /** Largest client frame in bytes; a larger one closes the connection with 1009. Default 16 KiB. */
  maxMessageBytes?: number;
  /** Client frames per second per connection (a burst of as many is allowed); beyond, `rate_limited`. Default 50. */
  messagesPerSecond?: number;
  /** Malformed or unknown frames one connection may send before it is closed with 4005. Default 20. */
  maxBadFrames?: number;
  /** Events one resume replays at most; more: `resumed: false`, reason `too_far_behind`. Default 10,000. */
  maxReplayEvents?: number;
}

/**
 * What the bridge needs of a bus: to subscribe to every event without a group. Any relaybus `EventBus` fits.
 *
 * @example
 * ```ts
 * const bus: BridgeBus = createEventBus({ events, transport });
 * ```
 */
export interface BridgeBus {
  subscribe(target: '#', handler: (event: Envelope) => unknown): PromiseLike<unknown>;
}

/**
 * Options of `createWsBridge`.
 *
 * @example
 * ```ts
 * const options: WsBridgeOptions = { store, port: 8080, authenticate: ({ token }) => verify(token) };
 * ```
 */
export interface WsBridgeOptions<TPrincipal extends Principal = Principal> {
  /**
   * The bus whose events are streamed. Without `store`, the bridge subscribes to it without a group (every node
   * sees every event; no resume). With `store`, the store is the source and `bus` is not needed.
   */
  readonly bus?: BridgeBus;
  /**
   * The event store the bus appends to. Live events are read from it in order, and a client resumes from any
   * position it still holds, on any node, after any restart.
   */
  readonly store?: EventStore<unknown>;
  /** An HTTP(S) server to attach to (its `upgrade` event on `path`; mount `handleSse` for SSE). Or give `port`. */
  readonly server?: HttpServer | HttpsServer;
  /** A port to listen on with a server of the bridge's own (0: any free port, see `address()`). */
  readonly port?: number;
  /** Host for `port`. Default `127.0.0.1`; `0.0.0.0` listens on every interface. */
  readonly host?: string;
  /** URL path of the WebSocket endpoint. Default `/relaybus`. */
  readonly path?: string;
  /** Path of the Server-Sent Events endpoint, or `false` for none. Default `${path}/sse`. */
  readonly ssePath?: string | false;
  /** Who is connecting: a principal, or `null`/`undefined` to refuse (close code 4001, HTTP 401 for SSE). */
  readonly authenticate: (
    request: AuthRequest,
  ) => TPrincipal | null | undefined | Promise<TPrincipal | null | undefined>;
  /** What a principal may subscribe to and see. Default: everything. */
  readonly authorize?: Authorizer<TPrincipal>;
  /** Allowed `Origin` values, or a predicate. Default: any (set it for browser apps). */
  readonly origins?: ReadonlyArray<string> | ((origin: string | undefined) => boolean);
  /** Wait this long for `hello` when the upgrade carried no credentials that authenticate. Default 5,000 ms. */
  readonly helloTimeoutMs?: number;
  /** Read a token from this query parameter too. Off by default: URLs land in access logs. */
  readonly tokenQueryParam?: string;
  /** Period of the shared heartbeat (WebSocket ping, and `heartbeat` frames on quiet connections). Default 15,000 ms. */
  readonly heartbeatMs?: number;
  /** Send-queue bounds per connection and what happens beyond them. */
  readonly backpressure?: BackpressureOptions;
  /** Connection and frame limits. */
  readonly limits?: BridgeLimits;
  /**
   * The reconnect delay advised in `goodbye` at shutdown: a random value in `[minMs, minMs + spreadMs)` per
   * connection, so clients of a node that goes away do not come back at once. Default 500 + 10,000 ms.
   */
  readonly goodbye?: { readonly minMs?: number; readonly spreadMs?: number };
  /** Where the bridge logs. Default: silent. */
  readonly logger?: Logger;
}

/** Options after defaults, as the bridge uses them. */
export interface ResolvedOptions {
  readonly path: string;
  readonly ssePath: string | undefined;
  readonly host: string;
  readonly helloTimeoutMs: number;
  readonly heartbeatMs: number;
  readonly policy: 'disconnect' | 'drop';
  readonly maxBytes: number;
  readonly maxEvents: number;
  readonly maxConnections: number;
  readonly handshakesPerSecond: number;
  readonly maxQueuedHandshakes: number;
  readonly maxSubscriptions: number;
  readonly maxMessageBytes: number;
  readonly messagesPerSecond: number;
  readonly maxBadFrames: number;
  readonly maxReplayEvents: number;
  readonly goodbyeMinMs: number;
  readonly goodbyeSpreadMs: number;
  readonly allowOrigin: (origin: string | undefined) => boolean;
  readonly tokenQueryParam: string | undefined;
}

const WHERE = 'createWsBridge';

function positiveInteger(option: string, value: number | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new InvalidOptionError(
      WHERE,
      option,
      `must be an integer of at least ${min}, got ${String(value)}`,
    );
  }
  return value;
}

function urlPath(option: string, value: string): string {
  if (typeof value !== 'string' || !value.startsWith('/') || value.includes('?') || value.includes('#')) {
    throw new InvalidOptionError(
      WHERE,
      option,
      `must be a URL path starting with "/", got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/**
 * Checks the options and applies the defaults; throws `InvalidOptionError` naming the option at fault.
 *
 * @example
 * ```ts
 * const resolved = resolveOptions({ store, port: 0, authenticate });
 * ```
 */
export function resolveOptions(options: WsBridgeOptions<Principal>): ResolvedOptions {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError(WHERE, 'options', 'must be an object');
  }
  if (options.bus === undefined && options.store === undefined) {
    throw new InvalidOptionError(WHERE, 'bus', 'or "store" is required: the bridge needs a source of events');
  }
  if (typeof options.authenticate !== 'function') {
    throw new InvalidOptionError(WHERE, 'authenticate', 'must be a function returning the principal or null');
  }
  if ((options.server === undefined) === (options.port === undefined)) {
    throw new InvalidOptionError(WHERE, 'server', 'or "port" is required, not both');
  }
  if (options.port !== undefined) positiveInteger('port', options.port, 0, 0);
  const path = urlPath('path', options.path ?? '/relaybus');
  const ssePath =
    options.ssePath === false ? undefined : urlPath('ssePath', options.ssePath ?? `${path}/sse`);
  const policy = options.backpressure?.policy ?? 'disconnect';
  if (policy !== 'disconnect' && policy !== 'drop') {
    throw new InvalidOptionError(
      WHERE,
      'backpressure.policy',
      `must be "disconnect" or "drop", got ${String(policy)}`,
    );
  }
  const origins = options.origins;
  let allowOrigin: (origin: string | undefined) => boolean = () => true;
  if (typeof origins === 'function') allowOrigin = origins;
  else if (origins !== undefined) {
    if (!Array.isArray(origins) || origins.some((origin) => typeof origin !== 'string')) {
      throw new InvalidOptionError(
        WHERE,
        'origins',
        'must be an array of origins such as "https://app.example.com"',
      );
    }
    const set = new Set(origins);
    allowOrigin = (origin) => origin !== undefined && set.has(origin);
  }
  const limits = options.limits ?? {};
  return {
    path,
    ssePath,
    host: options.host ?? '127.0.0.1',
    helloTimeoutMs: positiveInteger('helloTimeoutMs', options.helloTimeoutMs, 5_000),
    heartbeatMs: positiveInteger('heartbeatMs', options.heartbeatMs, 15_000, 10),
    policy,
    maxBytes: positiveInteger('backpressure.maxBytes', options.backpressure?.maxBytes, 1024 * 1024),
    maxEvents: positiveInteger('backpressure.maxEvents', options.backpressure?.maxEvents, 1_000),
    maxConnections: positiveInteger('limits.maxConnections', limits.maxConnections, 10_000),
    handshakesPerSecond: positiveInteger('limits.handshakesPerSecond', limits.handshakesPerSecond, 500),
    maxQueuedHandshakes: positiveInteger('limits.maxQueuedHandshakes', limits.maxQueuedHandshakes, 10_000, 0),
    maxSubscriptions: positiveInteger('limits.maxSubscriptions', limits.maxSubscriptions, 50),
    maxMessageBytes: positiveInteger('limits.maxMessageBytes', limits.maxMessageBytes, 16 * 1024, 64),
    messagesPerSecond: positiveInteger('limits.messagesPerSecond', limits.messagesPerSecond, 50),
    maxBadFrames: positiveInteger('limits.maxBadFrames', limits.maxBadFrames, 20),
    maxReplayEvents: positiveInteger('limits.maxReplayEvents', limits.maxReplayEvents, 10_000),
    goodbyeMinMs: positiveInteger('goodbye.minMs', options.goodbye?.minMs, 500, 0),
    goodbyeSpreadMs: positiveInteger('goodbye.spreadMs', options.goodbye?.spreadMs, 10_000, 0),
    allowOrigin,
    tokenQueryParam: options.tokenQueryParam,
  };
}

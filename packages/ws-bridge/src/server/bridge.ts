import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { type Envelope, InvalidOptionError, RelaybusError, silentLogger } from '@relaybus/core';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import {
  BEARER_PREFIX,
  CLOSE,
  type ErrorCode,
  type NotResumedReason,
  type Selector,
  SUBPROTOCOL,
} from '../protocol';
import { type Channel, Connection, EventFrames, type Subscription } from './connection';
import { busSource, type EventSource, type SourceEvent, storeSource } from './event-source';
import { encodeEvent, encodeMessage, encodeSseEvent, encodeSseMessage } from './frames';
import { HandshakeQueue } from './handshake-queue';
import { type AuthRequest, type Principal, resolveOptions, type WsBridgeOptions } from './options';
import { compileSelector } from './selector';

/**
 * Counters a health check or a dashboard reads.
 *
 * @example
 * ```ts
 * const { connections, subscriptions } = bridge.stats();
 * ```
 */
export interface BridgeStats {
  /** Open connections, WebSocket and SSE. */
  readonly connections: number;
  /** Subscriptions over all connections. */
  readonly subscriptions: number;
  /** Connection attempts waiting for their turn. */
  readonly queuedHandshakes: number;
  /** Event frames queued for clients since start. */
  readonly delivered: number;
  /** Event frames dropped under the `drop` policy since start. */
  readonly dropped: number;
  /** Connections closed for reading too slowly since start. */
  readonly slowConsumers: number;
  /** The position of the last event dispatched (with a store). */
  readonly position: string | undefined;
}

/**
 * A running bridge.
 *
 * @example
 * ```ts
 * const bridge = createWsBridge({ store, port: 8080, authenticate });
 * await bridge.ready;
 * process.on('SIGTERM', () => bridge.close());
 * ```
 */
export interface WsBridge {
  /** Settles once the bridge reads its source and (with `port`) listens. Rejects if either fails. */
  readonly ready: Promise<void>;
  /** The address of the server the bridge listens on, once `ready`. */
  address(): AddressInfo;
  /** Serves a Server-Sent Events request: mount it in your router when you passed your own `server`. */
  handleSse(request: IncomingMessage, response: ServerResponse): void;
  /** Closes every connection of this principal (`error` frame `forbidden`, close code 4003). Returns how many. */
  revoke(principalId: string): number;
  /** Current counters. */
  stats(): BridgeStats;
  /**
   * Says goodbye to every client with a jittered reconnect delay, closes them (4100), stops reading events and
   * closes the bridge's own server. Connections still open after `timeoutMs` (default 5,000) are dropped.
   */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

const ID_MAX = 64;
const POSITION_MAX = 128;
const REPLAY_PAGE = 500;
/** A connection closed on purpose gets this long for its closing handshake, then it is dropped. */
const CLOSE_GRACE_MS = 2_000;
const NO_HEADERS: IncomingMessage['headers'] = Object.freeze({});
const NO_COOKIES: Readonly<Record<string, string>> = Object.freeze({});
/** `WebSocket.OPEN`. */
const OPEN = 1;
const EXPIRY_SWEEP_MS = 1_000;

/** A client frame as parsed, before its fields are checked. */
interface Frame {
  type?: unknown;
  id?: unknown;
  sub?: unknown;
  from?: unknown;
  token?: unknown;
  types?: unknown;
  pattern?: unknown;
  subject?: unknown;
  metadata?: unknown;
  [field: string]: unknown;
}
type AuthBase = Omit<AuthRequest, 'phase' | 'token'>;

const isShortString = (value: unknown, max: number): value is string =>
  typeof value === 'string' && value.length > 0 && value.length <= max;

function parseCookies(header: string | undefined): Record<string, string> {
  const cookies: Record<string, string> = {};
  if (header === undefined) return cookies;
  for (const part of header.split(';')) {
    const index = part.indexOf('=');
    if (index <= 0) continue;
    const raw = part.slice(index + 1).trim();
    let value = raw;
    try {
      value = decodeURIComponent(raw);
    } catch {
      // Not percent-encoded: keep it as sent.
    }
    cookies[part.slice(0, index).trim()] = value;
  }
  return cookies;
}

function refuseUpgrade(socket: Duplex, status: number, reason: string, extra: string[] = []): void {
  const head = [`HTTP/1.1 ${status} ${reason}`, 'Connection: close', 'Content-Type: text/plain', ...extra];
  socket.end(`${head.join('\r\n')}\r\n\r\n${reason}\n`);
}

function bearerFrom(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  for (const entry of header.split(',')) {
    const value = entry.trim();
    if (value.startsWith(BEARER_PREFIX) && value.length > BEARER_PREFIX.length) {
      return value.slice(BEARER_PREFIX.length);
    }
  }
  return undefined;
}

function jitter(min: number, spread: number): number {
  return min + Math.floor(Math.random() * spread);
}

function terminate(ws: WebSocket): void {
  ws.terminate();
}

/**
 * A WebSocket as a {@link Channel}. Frames come complete (see `frameText`) and are written straight to the socket,
 * after whatever `ws` itself wrote. A class: its methods are shared, where closures would cost every connection.
 */
class WsChannel implements Channel {
  readonly kind = 'ws' as const;
  readonly #ws: WebSocket;
  readonly #socket: Duplex;

  constructor(ws: WebSocket) {
    this.#ws = ws;
    this.#socket = (ws as unknown as { _socket: Duplex })._socket;
  }

  write(frame: Buffer): void {
    if (this.#ws.readyState === OPEN) this.#socket.write(frame);
  }

  queuedBytes(): number {
    return this.#ws.bufferedAmount;
  }

  end(code: number, reason: string): void {
    this.#ws.close(code, reason);
    setTimeout(terminate, CLOSE_GRACE_MS, this.#ws).unref();
  }

  terminate(): void {
    this.#ws.terminate();
  }

  ping(): void {
    this.#ws.ping();
  }
}

/**
 * Streams bus events to browsers over WebSocket (and Server-Sent Events): subscriptions by event type or pattern,
 * filtered by subject and metadata, authorized per subscription and per event, and resumable from any position the
 * store still holds, on any node, after any restart.
 *
 * With a `store`, live events are read from the store's log in order, the same way a resume replays them, so replay
 * and live stream meet with no gap and no duplicate. Without one, the bridge subscribes to the bus without a group
 * (every node sees every event) and cannot resume (`resumed: false`, reason `no_store`).
 *
 * @throws `InvalidOptionError` for options that cannot work, naming the option.
 * @example
 * ```ts
 * const bridge = createWsBridge({
 *   store,
 *   server: httpServer,
 *   origins: ['https://tasks.example.com'],
 *   authenticate: ({ token, cookies }) => sessions.verify(token ?? cookies['session']),
 *   authorize: { event: (user, event) => user.projects.includes(event.metadata['projectId'] ?? '') },
 * });
 * await bridge.ready;
 * ```
 */
export function createWsBridge<TPrincipal extends Principal = Principal>(
  options: WsBridgeOptions<TPrincipal>,
): WsBridge {
  const config = resolveOptions(options as unknown as WsBridgeOptions<Principal>);
  const logger = options.logger ?? silentLogger;
  const store = options.store;
  const source: EventSource =
    store !== undefined
      ? storeSource(store, logger)
      : busSource(options.bus as NonNullable<typeof options.bus>);
  const authorizeEvent = options.authorize?.event;
  const authorizeSubscribe = options.authorize?.subscribe;
  const connections = new Set<Connection<TPrincipal>>();
  const byPrincipal = new Map<string, Set<Connection<TPrincipal>>>();
  const handshakes = new HandshakeQueue(config.handshakesPerSecond, config.maxQueuedHandshakes);
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: config.maxMessageBytes,
    perMessageDeflate: false,
    clientTracking: false,
    handleProtocols: () => SUBPROTOCOL,
  });
  const counters = { delivered: 0, dropped: 0, slowConsumers: 0 };
  const limits = {
    policy: config.policy,
    maxBytes: config.maxBytes,
    maxEvents: config.maxEvents,
    messagesPerSecond: config.messagesPerSecond,
  };
  let inFlightHandshakes = 0;
  let closing = false;
  let closed: Promise<void> | undefined;
  const ownServer = options.server === undefined;
  const server = options.server ?? createServer((request, response) => onOwnRequest(request, response));

  // --- Delivery ---------------------------------------------------------------------------------------------------

  function maySee(connection: Connection<TPrincipal>, event: Envelope): boolean {
    if (authorizeEvent === undefined) return true;
    try {
      return authorizeEvent(connection.principal as TPrincipal, event) === true;
    } catch (error) {
      logger.warn('ws-bridge: authorize.event threw; the event is not sent to this connection', {
        error,
        eventId: event.id,
        principal: (connection.principal as TPrincipal).id,
      });
      return false;
    }
  }

  function dispatch(event: SourceEvent): void {
    let frames: EventFrames | undefined;
    for (const connection of connections) {
      if (!connection.wants(event) || !maySee(connection, event)) continue;
      frames ??= new EventFrames(event);
      if (connection.deliver(event.position, frames.for(connection.kind))) counters.delivered++;
      else if (connection.dropped > 0) counters.dropped++;
    }
  }

  function onOverflow(connection: Connection<TPrincipal>): void {
    counters.slowConsumers++;
    logger.info('ws-bridge: closing a connection that reads too slowly; it will resume', {
      principal: connection.principal?.id,
      queuedBytes: connection.channel.queuedBytes(),
      queuedFrames: connection.pendingFrames,
    });
    end(connection, CLOSE.slowConsumer, 'slow consumer');
  }

  // --- Connections -------------------------------------------------------------------------------------------------

  function register(connection: Connection<TPrincipal>, principal: TPrincipal): void {
    // The request served authentication; a connection does not keep its headers and cookies for its lifetime (a
    // refresh carries its own token).
    connection.request = undefined;
    connection.principal = principal;
    connection.expiresAt = principal.expiresAt;
    let set = byPrincipal.get(principal.id);
    if (set === undefined) {
      set = new Set();
      byPrincipal.set(principal.id, set);
    }
    set.add(connection);
  }

  function forget(connection: Connection<TPrincipal>): void {
    if (connection.closed) return;
    connection.closed = true;
    connections.delete(connection);
    const id = connection.principal?.id;
    if (id === undefined) return;
    const set = byPrincipal.get(id);
    set?.delete(connection);
    if (set?.size === 0) byPrincipal.delete(id);
  }

  function end(connection: Connection<TPrincipal>, code: number, reason: string): void {
    if (connection.closed) return;
    forget(connection);
    connection.channel.end(code, reason);
  }

  function fail(
    connection: Connection<TPrincipal>,
    code: ErrorCode,
    message: string,
    id?: string,
    retry = false,
  ): void {
    connection.send(
      id === undefined
        ? { type: 'error', code, message, retry }
        : { type: 'error', id, code, message, retry },
    );
  }

  function badFrame(connection: Connection<TPrincipal>, code: ErrorCode, message: string, id?: string): void {
    connection.badFrames++;
    fail(connection, code, message, id);
    if (connection.badFrames > config.maxBadFrames) {
      end(connection, CLOSE.protocolError, 'too many malformed frames');
    }
  }

  function welcome(connection: Connection<TPrincipal>): void {
    const position = source.tail();
    connection.send({
      type: 'welcome',
      version: 1,
      heartbeatMs: config.heartbeatMs,
      ...(connection.expiresAt === undefined ? {} : { expiresAt: connection.expiresAt }),
      ...(position === undefined ? {} : { position }),
    });
  }

  async function authenticate(request: AuthRequest): Promise<TPrincipal | undefined> {
    const principal = await options.authenticate(request);
    if (principal === null || principal === undefined) return undefined;
    if (typeof principal !== 'object' || typeof principal.id !== 'string') {
      throw new InvalidOptionError(
        'createWsBridge',
        'authenticate',
        'must return an object with a string "id", or null',
      );
    }
    return principal;
  }

  // --- Subscriptions ---------------------------------------------------------------------------------------------

  async function subscribe(connection: Connection<TPrincipal>, frame: Frame): Promise<void> {
    const { id, sub, from } = frame;
    if (!isShortString(id, ID_MAX)) {
      badFrame(connection, 'bad_request', `"id" must be a string of 1 to ${ID_MAX} characters`);
      return;
    }
    if (!isShortString(sub, ID_MAX)) {
      badFrame(connection, 'bad_request', `"sub" must be a string of 1 to ${ID_MAX} characters`, id);
      return;
    }
    if (from !== undefined && from !== '' && !isShortString(from, POSITION_MAX)) {
      const problem = `"from" must be a position string of 1 to ${POSITION_MAX} characters`;
      badFrame(connection, 'bad_request', problem, id);
      return;
    }
    if (connection.subscriptions.has(sub)) {
      fail(connection, 'bad_subscription', `subscription "${sub}" already exists on this connection`, id);
      return;
    }
    if (connection.subscriptions.size >= config.maxSubscriptions) {
      const problem = `a connection holds at most ${config.maxSubscriptions} subscriptions`;
      fail(connection, 'too_many_subscriptions', problem, id);
      return;
    }
    const compiled = compileSelector(frame);
    if (typeof compiled === 'string') {
      badFrame(connection, 'bad_request', compiled, id);
      return;
    }
    // Reserved while authorize runs, so a second subscribe with this id is refused.
    const subscription: Subscription = { id: sub, selector: compiled, live: false, cursor: undefined };
    connection.subscriptions.set(sub, subscription);
    if (!(await allowed(connection, compiled.selector))) {
      if (connection.subscriptions.get(sub) === subscription) connection.subscriptions.delete(sub);
      fail(connection, 'forbidden', 'not allowed to subscribe to these events', id);
      return;
    }
    await start(connection, subscription, id, from);
  }

  async function allowed(connection: Connection<TPrincipal>, selector: Selector): Promise<boolean> {
    if (authorizeSubscribe === undefined) return true;
    try {
      return (await authorizeSubscribe(connection.principal as TPrincipal, selector)) === true;
    } catch (error) {
      logger.warn('ws-bridge: authorize.subscribe threw; the subscription is refused', { error });
      return false;
    }
  }

  async function start(
    connection: Connection<TPrincipal>,
    subscription: Subscription,
    id: string,
    from: string | undefined,
  ): Promise<void> {
    if (connection.closed || connection.subscriptions.get(subscription.id) !== subscription) return;
    if (from === undefined) {
      goLive(connection, subscription, id, false, 0);
      return;
    }
    if (store === undefined) {
      goLive(connection, subscription, id, false, 0, 'no_store');
      return;
    }
    await replay(connection, subscription, id, from);
  }

  function goLive(
    connection: Connection<TPrincipal>,
    subscription: Subscription,
    id: string,
    resumed: boolean,
    replayed: number,
    reason?: NotResumedReason,
  ): void {
    subscription.live = true;
    if (!resumed) subscription.cursor = source.tail();
    const position = subscription.cursor;
    connection.send({
      type: 'subscribed',
      id,
      sub: subscription.id,
      resumed,
      replayed,
      ...(reason === undefined ? {} : { reason }),
      ...(position === undefined ? {} : { position }),
    });
  }

  /** Waits until the connection's queue drained to half, so a replay never overflows it. */
  async function room(connection: Connection<TPrincipal>): Promise<void> {
    while (!connection.closed && !connection.drained())
      await new Promise((resolve) => setTimeout(resolve, 5));
  }

  /**
   * Replays the matching events after `from` from the store, then turns the subscription live. The live dispatcher
   * skips it meanwhile; the replay ends once it read past the last live position dispatched, in the same turn as it
   * goes live, and live events at or before its cursor are skipped: no gap, no duplicate at the seam.
   */
  async function replay(
    connection: Connection<TPrincipal>,
    subscription: Subscription,
    id: string,
    from: string,
  ): Promise<void> {
    const eventStore = store as NonNullable<typeof store>;
    const { selector } = subscription.selector;
    const types = selector.pattern === undefined ? selector.types : undefined;
    const current = (): boolean =>
      !connection.closed && connection.subscriptions.get(subscription.id) === subscription;
    let cursor = from;
    let replayed = 0;
    try {
      for (;;) {
        await room(connection);
        if (!current()) return;
        // '' is the start of the log, before every position.
        const page = await eventStore.readPage({
          ...(cursor === '' ? {} : { from: cursor }),
          limit: REPLAY_PAGE,
          ...(types ? { types } : {}),
        });
        if (!current()) return;
        for (const event of page.events) {
          if (!subscription.selector.matches(event) || !maySee(connection, event)) continue;
          if (replayed >= config.maxReplayEvents) {
            goLive(connection, subscription, id, false, replayed, 'too_far_behind');
            return;
          }
          connection.push(event.position, encodeReplayed(connection, event, subscription.id));
          replayed++;
        }
        if (page.next !== undefined) cursor = page.next;
        const tail = source.tail();
        if (page.next === undefined || tail === undefined || cursor >= tail) {
          subscription.cursor = cursor;
          goLive(connection, subscription, id, true, replayed);
          return;
        }
      }
    } catch (error) {
      if (!current()) return;
      if (RelaybusError.is(error) && error.code === 'INVALID_POSITION') {
        goLive(connection, subscription, id, false, replayed, 'position_gone');
        return;
      }
      connection.subscriptions.delete(subscription.id);
      logger.warn('ws-bridge: replaying from the event store failed', { error, from });
      fail(connection, 'internal', 'the event store could not be read; subscribe again', id, true);
    }
  }

  function encodeReplayed(connection: Connection<TPrincipal>, event: SourceEvent, sub: string): Buffer {
    return connection.kind === 'ws' ? encodeEvent(event, sub) : encodeSseEvent(event);
  }

  function unsubscribe(connection: Connection<TPrincipal>, frame: Frame): void {
    const { id, sub } = frame;
    if (!isShortString(id, ID_MAX) || !isShortString(sub, ID_MAX)) {
      badFrame(connection, 'bad_request', '"id" and "sub" must be strings of 1 to 64 characters');
      return;
    }
    if (!connection.subscriptions.delete(sub)) {
      fail(connection, 'bad_subscription', `no subscription "${sub}" on this connection`, id);
      return;
    }
    connection.send({ type: 'unsubscribed', id, sub });
  }

  async function refresh(connection: Connection<TPrincipal>, frame: Frame): Promise<void> {
    const { id, token } = frame;
    if (!isShortString(id, ID_MAX) || !isShortString(token, config.maxMessageBytes)) {
      badFrame(connection, 'bad_request', '"id" and "token" must be non-empty strings');
      return;
    }
    let principal: TPrincipal | undefined;
    try {
      principal = await authenticate({ cookies: NO_COOKIES, headers: NO_HEADERS, token, phase: 'refresh' });
    } catch (error) {
      logger.warn('ws-bridge: authenticate threw on refresh', { error });
      fail(connection, 'internal', 'the credentials could not be checked; try again', id, true);
      return;
    }
    if (connection.closed) return;
    if (principal === undefined) {
      fail(connection, 'unauthenticated', 'the refreshed credentials are not valid', id);
      end(connection, CLOSE.unauthorized, 'invalid credentials');
      return;
    }
    if (principal.id !== connection.principal?.id) {
      fail(connection, 'forbidden', 'the refreshed credentials are of another principal', id);
      return;
    }
    connection.principal = principal;
    connection.expiresAt = principal.expiresAt;
    connection.send(
      principal.expiresAt === undefined
        ? { type: 'refreshed', id }
        : { type: 'refreshed', id, expiresAt: principal.expiresAt },
    );
  }

  async function hello(connection: Connection<TPrincipal>, frame: Frame): Promise<void> {
    if (!isShortString(frame.token, config.maxMessageBytes)) {
      badFrame(connection, 'bad_request', '"token" must be a non-empty string');
      return;
    }
    if (connection.helloTimer !== undefined) clearTimeout(connection.helloTimer);
    connection.helloTimer = undefined;
    let principal: TPrincipal | undefined;
    try {
      principal = await authenticate({
        ...(connection.request as AuthBase),
        token: frame.token,
        phase: 'hello',
      });
    } catch (error) {
      logger.warn('ws-bridge: authenticate threw on hello', { error });
      fail(connection, 'internal', 'the credentials could not be checked');
      end(connection, 1011, 'authentication failed');
      return;
    }
    if (connection.closed) return;
    if (principal === undefined) {
      fail(connection, 'unauthenticated', 'the credentials in hello are not valid');
      end(connection, CLOSE.unauthorized, 'invalid credentials');
      return;
    }
    register(connection, principal);
    welcome(connection);
  }

  function onFrame(connection: Connection<TPrincipal>, data: RawData, isBinary: boolean): void {
    if (connection.closed) return;
    connection.alive = true;
    if (!connection.takeToken()) {
      fail(
        connection,
        'rate_limited',
        `at most ${config.messagesPerSecond} frames per second`,
        undefined,
        true,
      );
      return;
    }
    if (isBinary) {
      badFrame(connection, 'bad_request', 'frames must be JSON text, not binary');
      return;
    }
    let frame: unknown;
    try {
      frame = JSON.parse(data.toString());
    } catch {
      badFrame(connection, 'bad_request', 'the frame is not valid JSON');
      return;
    }
    if (
      frame === null ||
      typeof frame !== 'object' ||
      Array.isArray(frame) ||
      typeof (frame as Frame).type !== 'string'
    ) {
      badFrame(connection, 'bad_request', 'a frame is a JSON object with a string "type"');
      return;
    }
    const message = frame as Frame;
    if (connection.principal === undefined) {
      if (message.type === 'hello') {
        void hello(connection, message);
        return;
      }
      badFrame(connection, 'unauthenticated', 'send "hello" with a token first');
      return;
    }
    const id = isShortString(message.id, ID_MAX) ? message.id : undefined;
    switch (message.type) {
      case 'subscribe': {
        void subscribe(connection, message).catch((error: unknown) => internalError(connection, error, id));
        return;
      }
      case 'unsubscribe': {
        unsubscribe(connection, message);
        return;
      }
      case 'refresh': {
        void refresh(connection, message).catch((error: unknown) => internalError(connection, error, id));
        return;
      }
      case 'ping':
        if (id === undefined) {
          badFrame(connection, 'bad_request', '"id" must be a string of 1 to 64 characters');
          return;
        }
        {
          connection.send({ type: 'pong', id });
          return;
        }
      case 'hello': {
        badFrame(connection, 'bad_request', 'already authenticated', id);
        return;
      }
      default: {
        badFrame(
          connection,
          'unknown_message',
          `unknown frame type ${JSON.stringify(message.type).slice(0, 80)}`,
          id,
        );
        return;
      }
    }
  }

  function internalError(connection: Connection<TPrincipal>, error: unknown, id: string | undefined): void {
    logger.error('ws-bridge: a request failed', { error });
    fail(connection, 'internal', 'the request failed on the server', id, true);
  }

  // --- WebSocket upgrades ---------------------------------------------------------------------------------------

  const channels = new Set<Channel>();

  function onHandshakeError(error: Error): void {
    logger.debug('ws-bridge: socket error during the handshake', { error });
  }

  function onUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(request.url ?? '/', 'http://bridge.invalid');
    if (url.pathname !== config.path) {
      if (ownServer) refuseUpgrade(socket, 404, 'Not Found');
      return;
    }
    // A function of the bridge, not a closure here: a closure would share this call's context and keep the request,
    // its URL and head buffer alive as long as the socket.
    socket.on('error', onHandshakeError);
    if (closing) {
      refuseUpgrade(socket, 503, 'Service Unavailable', ['Retry-After: 1']);
      return;
    }
    const origin = request.headers.origin;
    if (!config.allowOrigin(origin)) {
      refuseUpgrade(socket, 403, 'Forbidden');
      return;
    }
    const offered = (request.headers['sec-websocket-protocol'] ?? '').split(',').map((entry) => entry.trim());
    if (!offered.includes(SUBPROTOCOL)) {
      refuseUpgrade(socket, 400, `Bad Request: offer the subprotocol ${SUBPROTOCOL}`);
      return;
    }
    if (connections.size + inFlightHandshakes + handshakes.size >= config.maxConnections) {
      refuseUpgrade(socket, 503, 'Service Unavailable', ['Retry-After: 5']);
      return;
    }
    const queued = handshakes.push(() => {
      if (socket.destroyed) return;
      void accept(request, socket, head, url);
    });
    if (!queued) refuseUpgrade(socket, 503, 'Service Unavailable', ['Retry-After: 2']);
  }

  async function accept(request: IncomingMessage, socket: Duplex, head: Buffer, url: URL): Promise<void> {
    const base: AuthBase = {
      cookies: parseCookies(request.headers.cookie),
      headers: request.headers,
      ...(request.headers.origin === undefined ? {} : { origin: request.headers.origin }),
      ...(request.socket.remoteAddress === undefined ? {} : { remoteAddress: request.socket.remoteAddress }),
    };
    const fromQuery =
      config.tokenQueryParam === undefined ? null : url.searchParams.get(config.tokenQueryParam);
    const token = bearerFrom(request.headers['sec-websocket-protocol']) ?? fromQuery ?? undefined;
    let principal: TPrincipal | undefined;
    let failure: unknown;
    inFlightHandshakes++;
    try {
      principal = await authenticate({
        ...base,
        ...(token === undefined ? {} : { token }),
        phase: 'upgrade',
      });
    } catch (error) {
      failure = error;
      logger.warn('ws-bridge: authenticate threw at upgrade', { error });
    } finally {
      inFlightHandshakes--;
    }
    if (socket.destroyed) return;
    if (closing) {
      refuseUpgrade(socket, 503, 'Service Unavailable', ['Retry-After: 1']);
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => open(ws, base, principal, token !== undefined, failure));
  }

  // Listeners shared by every connection (`this` is the socket), where closures would cost each one.
  const byWs = new WeakMap<WebSocket, Connection<TPrincipal>>();
  function onWsMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
    const connection = byWs.get(this);
    if (connection !== undefined) onFrame(connection, data, isBinary);
  }
  function onWsPong(this: WebSocket): void {
    const connection = byWs.get(this);
    if (connection !== undefined) connection.alive = true;
  }
  function onWsError(error: Error): void {
    logger.debug('ws-bridge: connection error', { error });
  }
  function onWsClose(this: WebSocket): void {
    const connection = byWs.get(this);
    if (connection === undefined) return;
    byWs.delete(this);
    channels.delete(connection.channel);
    if (connection.helloTimer !== undefined) clearTimeout(connection.helloTimer);
    forget(connection);
  }

  function open(
    ws: WebSocket,
    base: AuthBase,
    principal: TPrincipal | undefined,
    hadToken: boolean,
    failure: unknown,
  ): void {
    const channel = new WsChannel(ws);
    const connection = new Connection<TPrincipal>(channel, limits, onOverflow);
    connection.request = base;
    channels.add(channel);
    connections.add(connection);
    byWs.set(ws, connection);
    ws.on('message', onWsMessage);
    ws.on('pong', onWsPong);
    ws.on('error', onWsError);
    ws.on('close', onWsClose);
    if (failure !== undefined) {
      fail(connection, 'internal', 'the credentials could not be checked');
      end(connection, 1011, 'authentication failed');
      return;
    }
    if (principal !== undefined) {
      register(connection, principal);
      welcome(connection);
      return;
    }
    if (hadToken) {
      fail(connection, 'unauthenticated', 'the credentials are not valid');
      end(connection, CLOSE.unauthorized, 'invalid credentials');
      return;
    }
    connection.helloTimer = setTimeout(() => {
      fail(connection, 'unauthenticated', `no "hello" within ${config.helloTimeoutMs} ms`);
      end(connection, CLOSE.unauthorized, 'no credentials');
    }, config.helloTimeoutMs);
  }

  // --- Server-Sent Events ---------------------------------------------------------------------------------------

  function sseSelector(url: URL): Frame {
    const frame: Frame = {};
    const types = url.searchParams.getAll('types').flatMap((value) => value.split(','));
    if (types.length > 0) frame.types = types;
    const pattern = url.searchParams.get('pattern');
    if (pattern !== null) frame.pattern = pattern;
    const subjects = url.searchParams.getAll('subject');
    if (subjects.length > 0) frame.subject = subjects;
    const metadata: Record<string, string> = {};
    for (const [key, value] of url.searchParams)
      if (key.startsWith('metadata.')) metadata[key.slice(9)] = value;
    if (Object.keys(metadata).length > 0) frame.metadata = metadata;
    return frame;
  }

  function refuseSse(
    response: ServerResponse,
    status: number,
    message: string,
    headers: Record<string, string> = {},
  ): void {
    response
      .writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers })
      .end(`${message}\n`);
  }

  async function serveSse(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    const authorization = request.headers.authorization;
    const bearer = authorization?.startsWith('Bearer ') === true ? authorization.slice(7).trim() : undefined;
    const fromQuery =
      config.tokenQueryParam === undefined ? null : url.searchParams.get(config.tokenQueryParam);
    const token = bearer ?? fromQuery ?? undefined;
    const base: AuthBase = {
      cookies: parseCookies(request.headers.cookie),
      headers: request.headers,
      ...(request.headers.origin === undefined ? {} : { origin: request.headers.origin }),
      ...(request.socket.remoteAddress === undefined ? {} : { remoteAddress: request.socket.remoteAddress }),
    };
    let principal: TPrincipal | undefined;
    inFlightHandshakes++;
    try {
      principal = await authenticate({ ...base, ...(token === undefined ? {} : { token }), phase: 'sse' });
    } finally {
      inFlightHandshakes--;
    }
    if (principal === undefined) {
      refuseSse(response, 401, 'unauthorized');
      return;
    }
    const compiled = compileSelector(sseSelector(url));
    if (typeof compiled === 'string') {
      refuseSse(response, 400, compiled);
      return;
    }
    const lastEventId = request.headers['last-event-id'];
    const from =
      (typeof lastEventId === 'string' ? lastEventId : undefined) ??
      url.searchParams.get('from') ??
      undefined;
    if (from !== undefined && from !== '' && !isShortString(from, POSITION_MAX)) {
      refuseSse(response, 400, 'malformed position');
      return;
    }
    const channel: Channel = {
      kind: 'sse',
      write: (frame) => {
        response.write(frame);
      },
      queuedBytes: () => response.writableLength,
      end: () => response.end(),
      terminate: () => response.destroy(),
      ping: () => {},
    };
    const connection = new Connection<TPrincipal>(channel, limits, onOverflow);
    register(connection, principal);
    if (!(await allowed(connection, compiled.selector))) {
      forget(connection);
      refuseSse(response, 403, 'not allowed to subscribe to these events');
      return;
    }
    if (response.destroyed || closing) {
      forget(connection);
      return;
    }
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    response.flushHeaders();
    channels.add(channel);
    connections.add(connection);
    response.on('close', () => {
      channels.delete(channel);
      forget(connection);
    });
    welcome(connection);
    const subscription: Subscription = { id: 'sse', selector: compiled, live: false, cursor: undefined };
    connection.subscriptions.set('sse', subscription);
    await start(connection, subscription, 'sse', from);
  }

  function handleSse(request: IncomingMessage, response: ServerResponse): void {
    const url = new URL(request.url ?? '/', 'http://bridge.invalid');
    if (request.method !== 'GET') {
      refuseSse(response, 405, 'use GET', { allow: 'GET' });
      return;
    }
    if (closing) {
      refuseSse(response, 503, 'shutting down', { 'retry-after': '1' });
      return;
    }
    if (!config.allowOrigin(request.headers.origin)) {
      refuseSse(response, 403, 'origin not allowed');
      return;
    }
    if (connections.size + inFlightHandshakes + handshakes.size >= config.maxConnections) {
      refuseSse(response, 503, 'too many connections', { 'retry-after': '5' });
      return;
    }
    const queued = handshakes.push(() => {
      if (response.destroyed) return;
      serveSse(request, response, url).catch((error: unknown) => {
        logger.warn('ws-bridge: serving an SSE request failed', { error });
        if (!response.headersSent) refuseSse(response, 500, 'internal error');
        else response.end();
      });
    });
    if (!queued) refuseSse(response, 503, 'too many connection attempts', { 'retry-after': '2' });
  }

  function onOwnRequest(request: IncomingMessage, response: ServerResponse): void {
    const { pathname } = new URL(request.url ?? '/', 'http://bridge.invalid');
    if (config.ssePath !== undefined && pathname === config.ssePath) {
      handleSse(request, response);
      return;
    }
    refuseSse(response, 404, 'not found');
  }

  // --- Shared timers ----------------------------------------------------------------------------------------------

  /** One timer for every connection: WebSocket pings (dead ones are dropped), heartbeats on quiet ones, lag notices. */
  function heartbeat(): void {
    const position = source.tail();
    const message =
      position === undefined ? { type: 'heartbeat' as const } : { type: 'heartbeat' as const, position };
    let wsFrame: Buffer | undefined;
    let sseFrame: Buffer | undefined;
    for (const connection of connections) {
      if (connection.kind === 'ws') {
        if (!connection.alive) {
          forget(connection);
          connection.channel.terminate();
          continue;
        }
        connection.alive = false;
        connection.channel.ping();
      }
      connection.flushLag();
      if (!connection.quiet) {
        connection.quiet = true;
        continue;
      }
      if (connection.principal === undefined || connection.dropped > 0 || connection.replaying()) continue;
      if (connection.kind === 'ws') {
        wsFrame ??= encodeMessage(message);
        connection.sendShared(wsFrame);
      } else {
        sseFrame ??= encodeSseMessage(message);
        connection.sendShared(sseFrame);
      }
      connection.quiet = true;
    }
  }

  function expire(): void {
    const now = Date.now();
    for (const connection of connections) {
      if (connection.expiresAt === undefined || connection.expiresAt > now) continue;
      fail(connection, 'unauthenticated', 'the credentials expired; reconnect with fresh ones');
      end(connection, CLOSE.tokenExpired, 'credentials expired');
    }
  }

  let heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  let expiryTimer: ReturnType<typeof setInterval> | undefined;

  // --- Lifecycle --------------------------------------------------------------------------------------------------

  const ready = (async () => {
    await source.start(dispatch);
    server.on('upgrade', onUpgrade);
    if (ownServer) {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port, config.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    }
    heartbeatTimer = setInterval(heartbeat, config.heartbeatMs);
    expiryTimer = setInterval(expire, EXPIRY_SWEEP_MS);
    heartbeatTimer.unref();
    expiryTimer.unref();
  })();
  ready.catch(() => {});

  return {
    ready,
    address() {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        throw new InvalidOptionError('createWsBridge', 'server', 'is not listening on a TCP port');
      }
      return address;
    },
    handleSse,
    revoke(principalId) {
      const set = byPrincipal.get(principalId);
      if (set === undefined) return 0;
      const revoked = [...set];
      for (const connection of revoked) {
        fail(connection, 'forbidden', 'access was revoked');
        end(connection, CLOSE.forbidden, 'revoked');
      }
      return revoked.length;
    },
    stats() {
      let subscriptions = 0;
      for (const connection of connections) subscriptions += connection.subscriptions.size;
      return {
        connections: connections.size,
        subscriptions,
        queuedHandshakes: handshakes.size,
        ...counters,
        position: source.tail(),
      };
    },
    close(closeOptions = {}) {
      closed ??= shutdown(closeOptions.timeoutMs ?? 5_000);
      return closed;
    },
  };

  async function shutdown(timeoutMs: number): Promise<void> {
    closing = true;
    handshakes.clear();
    if (heartbeatTimer !== undefined) clearInterval(heartbeatTimer);
    if (expiryTimer !== undefined) clearInterval(expiryTimer);
    await ready.catch(() => {});
    await source.close();
    for (const connection of [...connections]) {
      const retryAfterMs = jitter(config.goodbyeMinMs, config.goodbyeSpreadMs);
      connection.send({ type: 'goodbye', reason: 'the server is going away', retryAfterMs });
      end(connection, CLOSE.goingAway, 'going away');
    }
    const deadline = Date.now() + timeoutMs;
    while (channels.size > 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 10));
    for (const channel of channels) channel.terminate();
    server.off('upgrade', onUpgrade);
    wss.close();
    if (ownServer) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
  }
}

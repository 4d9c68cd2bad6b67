import type { ClientMessage, ServerMessage, WelcomeMessage } from '../protocol';
import { refreshDelayMs, tokenFailed, upgradeProtocols } from './credentials';
import { BridgeError } from './errors';
import type { ResolvedOptions } from './options';
import { watchPage } from './page-lifecycle';
import { reconnectDelay } from './reconnect-delay';
import type { ClientState } from './types';

/** A connection open this long counts as stable: the next reconnect backs off from the start again. */
const STABLE_MS = 10_000;
/** A connection that sent no frame for this many heartbeat periods is dead. */
const DEAD_AFTER_HEARTBEATS = 2.5;
/** The heartbeat period assumed until `welcome` says, which bounds how long a handshake may take. */
const FIRST_HEARTBEAT_MS = 10_000;

/** The part of a WebSocket the client uses; the browser's and the `ws` package's both have it. */
interface Socket {
  onopen: (() => void) | null;
  onmessage: ((message: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: (() => void) | null;
  send(data: string): void;
  close(code?: number): void;
}

/**
 * What a {@link Connection} reports to the client built on it.
 *
 * @example
 * ```ts
 * const events: ConnectionEvents = { frame: route, state: (state) => emit('state', state), error: report };
 * ```
 */
export interface ConnectionEvents {
  /** A frame from the server; for `welcome`, before the state becomes `open`. */
  frame(frame: ServerMessage): void;
  state(state: ClientState): void;
  error(error: BridgeError): void;
}

/**
 * Keeps one WebSocket to the bridge alive: authenticates, reconnects (backoff, the server's advice, close code
 * classes), drops a connection that went silent, refreshes credentials, and follows the page's lifecycle.
 *
 * @example
 * ```ts
 * const connection = new Connection(resolveOptions({ url }), events);
 * connection.send({ type: 'ping', id: 'p1' });
 * ```
 */
export class Connection {
  state: ClientState = 'connecting';
  /** Counts sockets, so that a delayed action can tell it is still about the socket it was meant for. */
  generation = 0;
  readonly #options: ResolvedOptions;
  readonly #events: ConnectionEvents;
  readonly #unwatch: () => void;
  #ws: Socket | undefined;
  #connecting = false;
  /** While connected, the dead-connection watchdog; while not, the reconnect delay. */
  #timer: ReturnType<typeof setTimeout> | undefined;
  #refreshTimer: ReturnType<typeof setTimeout> | undefined;
  #attempt = 0;
  #refreshes = 0;
  #advisedMs: number | undefined;
  #openedAt = Number.POSITIVE_INFINITY;
  #heartbeatMs = FIRST_HEARTBEAT_MS;
  #offline = false;
  #hidden = false;

  constructor(options: ResolvedOptions, events: ConnectionEvents) {
    this.#options = options;
    this.#events = events;
    this.#unwatch = watchPage({
      hide: () => this.#pause('hidden'),
      show: () => this.#resume('hidden'),
      visible: () => this.#resume(),
      online: () => this.#resume('offline'),
      offline: () => this.#pause('offline'),
    });
    // Connects after the caller's synchronous code, so that listeners added right after creation hear everything.
    queueMicrotask(() => void this.#connect());
  }

  send(frame: ClientMessage): void {
    this.#ws?.send(JSON.stringify(frame));
  }

  close(): void {
    if (this.state === 'closed') return;
    this.#disconnect();
    this.#unwatch();
    this.#setState('closed');
  }

  #setState(state: ClientState): void {
    if (this.state === state) return;
    this.state = state;
    this.#events.state(state);
  }

  async #connect(): Promise<void> {
    if (this.#ws || this.#connecting || this.#held()) return;
    clearTimeout(this.#timer);
    this.#connecting = true;
    let token: string | undefined;
    try {
      const { token: source } = this.#options;
      token = typeof source === 'function' ? await source() : source;
    } catch (error) {
      this.#events.error(tokenFailed(error));
      this.#connecting = false;
      this.#lost(1006);
      return;
    }
    this.#connecting = false;
    if (this.#held()) return;
    const { protocols, hello } = upgradeProtocols(token);
    let ws: Socket;
    try {
      ws = new this.#options.WebSocket(this.#options.url, protocols) as unknown as Socket;
    } catch (error) {
      // What a WebSocket constructor throws (a bad URL, a blocked port, ws: from an https: page) does not go away.
      this.close();
      this.#events.error(
        new BridgeError('invalid_option', `cannot connect: ${String(error)}`, { cause: error }),
      );
      return;
    }
    this.#ws = ws;
    this.generation++;
    ws.onopen = () => hello !== undefined && this.send({ type: 'hello', token: hello });
    ws.onmessage = (message) => this.#receive(message.data);
    ws.onclose = (event) => this.#lost(event.code, event.reason);
    ws.onerror = () => {};
    this.#watch();
  }

  /** (Re)arms the watchdog: a connection silent for 2.5 heartbeat periods is dropped and made again. */
  #watch(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#lost(1006), this.#heartbeatMs * DEAD_AFTER_HEARTBEATS);
  }

  /** Detaches and closes the socket (code 1000), and stops its timers. */
  #disconnect(): void {
    const ws = this.#ws;
    this.#ws = undefined;
    clearTimeout(this.#timer);
    clearTimeout(this.#refreshTimer);
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onclose = null;
    // `ws` emits an `error` when a connection is closed while it is made; unheard, Node would throw it.
    ws.onerror = () => {};
    ws.close(1000);
  }

  /** The connection is gone (closed by the server, silent, or dropped by us): reconnect as the close code says. */
  #lost(code: number, reason = ''): void {
    this.#disconnect();
    if (this.state === 'closed') return;
    if (Date.now() - this.#openedAt >= STABLE_MS) this.#attempt = 0;
    this.#openedAt = Number.POSITIVE_INFINITY;
    const delay = reconnectDelay(code, this.#attempt++, this.#advisedMs, this.#options);
    this.#advisedMs = undefined;
    if (delay === undefined) {
      this.close();
      const message = `the server closed the connection with ${code}${reason && ` (${reason})`}; not reconnecting`;
      this.#events.error(new BridgeError('closed', message, { closeCode: code }));
      return;
    }
    this.#setState('reconnecting');
    if (!this.#held()) this.#timer = setTimeout(() => void this.#connect(), delay);
  }

  /** Whether the client must not connect now: closed, or waiting for the page to show or the network to return. */
  #held(): boolean {
    return this.state === 'closed' || this.#hidden || this.#offline;
  }

  #pause(why: 'hidden' | 'offline'): void {
    if (why === 'hidden') this.#hidden = true;
    else this.#offline = true;
    this.#lost(1000);
  }

  /** Reconnects at once, if disconnected and nothing stands in the way. */
  #resume(why?: 'hidden' | 'offline'): void {
    if (why === 'hidden') this.#hidden = false;
    if (why === 'offline') this.#offline = false;
    void this.#connect();
  }

  #receive(data: unknown): void {
    let frame: ServerMessage | null;
    try {
      frame = JSON.parse(String(data));
    } catch {
      return;
    }
    if (!frame) return;
    this.#watch();
    if (frame.type === 'goodbye') this.#advisedMs = frame.retryAfterMs;
    if (frame.type === 'refreshed') this.#scheduleRefresh(frame.expiresAt);
    if (frame.type === 'welcome') this.#welcome(frame);
    else this.#events.frame(frame);
  }

  #welcome(frame: WelcomeMessage): void {
    this.#heartbeatMs = frame.heartbeatMs > 0 ? frame.heartbeatMs : FIRST_HEARTBEAT_MS;
    this.#openedAt = Date.now();
    this.#watch();
    this.#scheduleRefresh(frame.expiresAt);
    this.#events.frame(frame);
    this.#setState('open');
  }

  /** Refreshes the credentials ahead of `expiresAt`, when the token comes from a function that can renew it. */
  #scheduleRefresh(expiresAt: number | undefined): void {
    clearTimeout(this.#refreshTimer);
    const source = this.#options.token;
    if (expiresAt === undefined || typeof source !== 'function') return;
    const generation = this.generation;
    const refresh = async () => {
      try {
        const token = await source();
        if (this.generation === generation)
          this.send({ type: 'refresh', id: `t${++this.#refreshes}`, token });
      } catch (error) {
        this.#events.error(tokenFailed(error));
      }
    };
    this.#refreshTimer = setTimeout(refresh, refreshDelayMs(expiresAt));
  }
}

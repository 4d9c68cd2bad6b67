import { BridgeError } from './errors';

/**
 * A WebSocket class: the browser's, Node's global one (22+, or 20 with `--experimental-websocket`), or the `ws`
 * package's. The client sets `onopen`, `onmessage`, `onclose` and `onerror`, and reads text frames from
 * `event.data`.
 *
 * @example
 * ```ts
 * import { WebSocket } from 'ws';
 * const Socket: WebSocketLike = WebSocket;
 * ```
 */
export type WebSocketLike = new (
  url: string,
  protocols: string[],
) => { send(data: string): void; close(code?: number, reason?: string): void };

/**
 * How the client reconnects after losing the connection: a random delay between 0 and
 * `min(maxDelayMs, minDelayMs * 2^attempt)` ("full jitter"), unless the server advised a delay (`goodbye`) or
 * asked for an immediate reconnect (close codes 4200-4299). The attempt count starts over once a connection
 * stayed open for 10 seconds.
 *
 * @example
 * ```ts
 * const reconnect: ReconnectOptions = { minDelayMs: 1_000, maxDelayMs: 60_000 };
 * ```
 */
export interface ReconnectOptions {
  /**
   * The backoff's first step, in milliseconds. A positive number.
   * @defaultValue 500
   */
  readonly minDelayMs?: number;
  /**
   * The longest backoff delay, in milliseconds. At least `minDelayMs`.
   * @defaultValue 30000
   */
  readonly maxDelayMs?: number;
}

/**
 * Options of {@link createBridgeClient}.
 *
 * @example
 * ```ts
 * const options: BridgeClientOptions = { url: 'wss://api.example.com/bridge', token: () => auth.accessToken() };
 * ```
 */
export interface BridgeClientOptions {
  /** The bridge's URL: `ws:`, `wss:`, `http:` or `https:` (the last two become `ws:`/`wss:`), or relative to the page. */
  readonly url: string | URL;
  /**
   * The bearer token, or a function that returns a fresh one. It is called before every connection and, when the
   * server says when the credentials expire, to `refresh` them before then (at 80% of the remaining time). Sent
   * as a subprotocol entry at upgrade, or in a `hello` frame when it holds characters a subprotocol cannot.
   */
  readonly token?: string | (() => string | Promise<string>);
  /**
   * The WebSocket class.
   * @defaultValue `globalThis.WebSocket`
   */
  readonly WebSocket?: WebSocketLike;
  /** How to reconnect. */
  readonly reconnect?: ReconnectOptions;
  /**
   * How many event ids each subscription remembers to drop duplicates (an event delivered twice around a
   * reconnect). 0 turns deduplication off.
   * @defaultValue 1000
   */
  readonly dedupe?: number;
  /** Closes the client when aborted. */
  readonly signal?: AbortSignal;
}

/** {@link BridgeClientOptions} checked, with the defaults applied. */
export interface ResolvedOptions {
  readonly url: string;
  readonly token: BridgeClientOptions['token'];
  readonly WebSocket: WebSocketLike;
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
  readonly dedupe: number;
}

const DEFAULTS = { minDelayMs: 500, maxDelayMs: 30_000, dedupe: 1000 } as const;

function invalid(message: string): BridgeError {
  return new BridgeError('invalid_option', `createBridgeClient: ${message}`);
}

function resolveUrl(url: string | URL): string {
  const base = (globalThis as { location?: { href: string } }).location?.href;
  let resolved: URL;
  try {
    resolved = new URL(url, base);
  } catch {
    throw invalid(`url "${String(url)}" is not a valid URL; give an absolute ws: or wss: URL`);
  }
  resolved.protocol = resolved.protocol.replace(/^http/, 'ws');
  if (!/^wss?:$/.test(resolved.protocol))
    throw invalid(`url "${String(url)}" is not a ws:, wss: or http(s): URL`);
  return resolved.href;
}

/**
 * Checks the options and applies the defaults.
 *
 * @throws {@link BridgeError} `invalid_option` naming the option and what it should be.
 * @example
 * ```ts
 * const resolved = resolveOptions({ url: 'ws://localhost:8080/bridge' });
 * ```
 */
export function resolveOptions(options: BridgeClientOptions): ResolvedOptions {
  const WebSocket = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketLike }).WebSocket;
  if (!WebSocket) throw invalid('no global WebSocket here: pass the WebSocket option (e.g. from "ws")');
  const { minDelayMs = DEFAULTS.minDelayMs, maxDelayMs = DEFAULTS.maxDelayMs } = options.reconnect ?? {};
  if (!(minDelayMs > 0 && maxDelayMs >= minDelayMs)) {
    throw invalid(`reconnect needs 0 < minDelayMs <= maxDelayMs, got ${minDelayMs} and ${maxDelayMs}`);
  }
  const dedupe = options.dedupe ?? DEFAULTS.dedupe;
  if (!(Number.isInteger(dedupe) && dedupe >= 0))
    throw invalid(`dedupe must be an integer >= 0, got ${dedupe}`);
  return { url: resolveUrl(options.url), token: options.token, WebSocket, minDelayMs, maxDelayMs, dedupe };
}

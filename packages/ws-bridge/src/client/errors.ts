import type { ErrorCode } from '../protocol';
import type { BridgeSubscription } from './types';

/**
 * What went wrong, as a string literal: an {@link ErrorCode} of the server's `error` frame, or one of the client's
 * own. `closed`: the server closed the connection with a code the client does not reconnect after (4000-4099, see
 * `closeCode`); `token_failed`: the `token` function threw or rejected; `invalid_option`: an option or a selector
 * is malformed, or the WebSocket class refused the URL (the client is then closed).
 *
 * @example
 * ```ts
 * client.on('error', (error) => { if (error.code === 'closed' && error.closeCode === 4001) showSignIn(); });
 * ```
 */
export type BridgeErrorCode = ErrorCode | 'closed' | 'token_failed' | 'invalid_option';

/**
 * Options of a {@link BridgeError}.
 *
 * @example
 * ```ts
 * new BridgeError('closed', 'the server closed the connection', { closeCode: 4003, retry: false });
 * ```
 */
export interface BridgeErrorOptions {
  /** Whether the client (or repeating the request) can still get through: reconnecting, retrying. */
  readonly retry?: boolean;
  /** The WebSocket close code, for `closed`. */
  readonly closeCode?: number;
  /** The subscription the failed request was for. */
  readonly subscription?: BridgeSubscription;
  /** The error that led to this one. */
  readonly cause?: unknown;
}

/**
 * An error of the bridge client: reported through `client.on('error')`, or thrown by `createBridgeClient` and
 * `subscribe` for malformed options.
 *
 * @example
 * ```ts
 * client.on('error', (error) => {
 *   if (error.subscription) console.warn(`subscription ${error.subscription.id}: ${error.message}`);
 * });
 * ```
 */
export class BridgeError extends Error {
  /** What kind of failure this is. */
  readonly code: BridgeErrorCode;
  /** Whether the client (or repeating the request) can still get through. */
  readonly retry: boolean;
  /** The WebSocket close code, for `closed`. */
  readonly closeCode: number | undefined;
  /** The subscription the failed request was for; a refused subscription is closed unless `retry`. */
  readonly subscription: BridgeSubscription | undefined;

  constructor(code: BridgeErrorCode, message: string, options: BridgeErrorOptions = {}) {
    super(message, 'cause' in options ? { cause: options.cause } : undefined);
    this.name = 'BridgeError';
    this.code = code;
    this.retry = options.retry ?? false;
    this.closeCode = options.closeCode;
    this.subscription = options.subscription;
  }
}

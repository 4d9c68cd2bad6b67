import { BEARER_PREFIX, SUBPROTOCOL } from '../protocol';
import { BridgeError } from './errors';

/** RFC 7230 token characters: what a subprotocol entry may hold. */
const SUBPROTOCOL_SAFE = /^[!#$%&'*+.^_`|~\w-]+$/;
/** Credentials are refreshed when this share of their remaining lifetime has passed... */
const REFRESH_AT = 0.8;
/** ...but not sooner than this, so that a server clock behind ours cannot cause a refresh loop. */
const MIN_REFRESH_MS = 1_000;

/**
 * How a token travels at connection: as the second subprotocol entry, or, when it holds characters a subprotocol
 * cannot (the browser would refuse to connect), in a `hello` frame once the connection is open.
 *
 * @example
 * ```ts
 * upgradeProtocols('eyJ.x.y'); // { protocols: ['relaybus.v1', 'relaybus.bearer.eyJ.x.y'] }
 * upgradeProtocols('a b'); // { protocols: ['relaybus.v1'], hello: 'a b' }
 * ```
 */
export function upgradeProtocols(token: string | undefined): { protocols: string[]; hello?: string } {
  if (token === undefined) return { protocols: [SUBPROTOCOL] };
  if (SUBPROTOCOL_SAFE.test(token)) return { protocols: [SUBPROTOCOL, BEARER_PREFIX + token] };
  return { protocols: [SUBPROTOCOL], hello: token };
}

/**
 * How long to wait before refreshing credentials that expire at `expiresAt` (epoch ms), in milliseconds.
 *
 * @example
 * ```ts
 * refreshDelayMs(Date.now() + 60_000); // 48000
 * ```
 */
export function refreshDelayMs(expiresAt: number, now: number = Date.now()): number {
  return Math.max(MIN_REFRESH_MS, (expiresAt - now) * REFRESH_AT);
}

/**
 * The error reported when the `token` function throws or rejects.
 *
 * @example
 * ```ts
 * client.emit('error', tokenFailed(error));
 * ```
 */
export function tokenFailed(error: unknown): BridgeError {
  return new BridgeError('token_failed', `the token function failed: ${String(error)}`, {
    cause: error,
    retry: true,
  });
}

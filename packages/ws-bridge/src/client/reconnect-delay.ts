import type { ResolvedOptions } from './options';

/** The jitter of an immediate reconnect (close codes 4200-4299), so that clients told at once do not come at once. */
const IMMEDIATE_JITTER_MS = 250;

/**
 * How long to wait before reconnecting after the server closed with `code`, in milliseconds, or `undefined` for
 * never (4000-4099). The server's advice (`goodbye.retryAfterMs`) wins; 4200-4299 reconnect at once (a short
 * jitter); anything else backs off: a random delay up to `min(maxDelayMs, minDelayMs * 2^attempt)`.
 *
 * @example
 * ```ts
 * reconnectDelay(4100, 3, undefined, { minDelayMs: 500, maxDelayMs: 30_000 }); // 0 to 4000
 * ```
 */
export function reconnectDelay(
  code: number,
  attempt: number,
  advisedMs: number | undefined,
  { minDelayMs, maxDelayMs }: Pick<ResolvedOptions, 'minDelayMs' | 'maxDelayMs'>,
): number | undefined {
  if (code >= 4000 && code < 4100) return undefined;
  if (advisedMs !== undefined) return advisedMs;
  if (code >= 4200 && code < 4300) return Math.random() * Math.min(minDelayMs, IMMEDIATE_JITTER_MS);
  return Math.random() * Math.min(maxDelayMs, minDelayMs * 2 ** attempt);
}

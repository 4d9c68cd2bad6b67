import { InvalidOptionError } from '../../errors';
import { resolveTransportSubscribeOptions } from '../subscribe-options';
import type { Delivery, TransportSubscribeOptions } from '../transport';

/**
 * Options of `memoryTransport()`.
 *
 * @example
 * ```ts
 * const transport = memoryTransport({
 *   highWaterMark: 10_000,
 *   onError: (error, delivery) => console.error(delivery.message.topic, error),
 * });
 * ```
 */
export interface MemoryTransportOptions {
  /**
   * Backlog size (messages queued but not yet handed to a subscriber) above which `publish` slows down: while
   * any group or group-less subscriber with a live consumer holds more than this, the promise returned by
   * `publish` resolves only once every backlog is back below it. Messages are always accepted, never dropped.
   * A positive integer.
   *
   * @defaultValue 100000
   */
  readonly highWaterMark?: number;
  /**
   * Called once for every exception that escapes a subscription handler (a throw or a rejected promise). The
   * delivery is then nacked for immediate redelivery unless the handler had already settled it.
   *
   * @defaultValue ignore the error
   */
  readonly onError?: (error: unknown, delivery: Delivery) => void;
  /**
   * Aborting it closes the transport, as `close()` does.
   *
   * @defaultValue none
   */
  readonly signal?: AbortSignal;
}

/**
 * Every default of the memory transport, in one place.
 *
 * @example
 * ```ts
 * const timeoutMs = options?.timeoutMs ?? DEFAULTS.closeTimeoutMs;
 * ```
 */
export const DEFAULTS = {
  highWaterMark: 100_000,
  closeTimeoutMs: 10_000,
} as const;

/**
 * The memory transport's options with defaults applied.
 *
 * @example
 * ```ts
 * const resolved: ResolvedOptions = resolveOptions({});
 * ```
 */
export interface ResolvedOptions {
  readonly highWaterMark: number;
  readonly onError: ((error: unknown, delivery: Delivery) => void) | undefined;
  readonly signal: AbortSignal | undefined;
}

/**
 * Validates the options of `memoryTransport()` and applies defaults.
 *
 * @throws {@link InvalidOptionError} naming the offending option.
 * @example
 * ```ts
 * resolveOptions({ highWaterMark: 0 }); // throws: option "highWaterMark" must be a positive integer
 * ```
 */
export function resolveOptions(options: MemoryTransportOptions): ResolvedOptions {
  const where = 'memoryTransport()';
  const highWaterMark = options.highWaterMark ?? DEFAULTS.highWaterMark;
  if (!Number.isSafeInteger(highWaterMark) || highWaterMark < 1) {
    throw new InvalidOptionError(
      where,
      'highWaterMark',
      `must be a positive integer, got ${String(highWaterMark)}`,
    );
  }
  if (options.onError !== undefined && typeof options.onError !== 'function') {
    throw new InvalidOptionError(where, 'onError', 'must be a function');
  }
  return { highWaterMark, onError: options.onError, signal: options.signal };
}

/**
 * A subscription's filter and limits, validated.
 *
 * @example
 * ```ts
 * const spec: SubscriptionSpec = resolveSubscribeOptions({ topics: ['a'] });
 * ```
 */
export interface SubscriptionSpec {
  readonly topics: ReadonlySet<string> | null;
  readonly pattern: string | undefined;
  readonly match: ((topic: string) => boolean) | null;
  readonly group: string | undefined;
  readonly concurrency: number;
  readonly visibilityTimeoutMs: number;
}

/**
 * Validates subscribe options and applies defaults.
 *
 * @throws {@link InvalidOptionError} naming the offending option, or `InvalidPatternError` for a bad pattern.
 * @example
 * ```ts
 * resolveSubscribeOptions({ pattern: 'task.*', group: 'audit', concurrency: 4 });
 * ```
 */
export function resolveSubscribeOptions(options: TransportSubscribeOptions): SubscriptionSpec {
  const resolved = resolveTransportSubscribeOptions('memoryTransport.subscribe()', options);
  return {
    ...resolved,
    topics: resolved.topics.length > 0 ? new Set(resolved.topics) : null,
    match: resolved.match ?? null,
  };
}

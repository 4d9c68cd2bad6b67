import { InvalidOptionError } from '../errors';
import { compilePattern, isPattern } from './topic-pattern';
import type { TransportSubscribeOptions } from './transport';

/**
 * Subscribe options after validation, with defaults applied.
 *
 * @example
 * ```ts
 * const { topics, match, concurrency } = resolveTransportSubscribeOptions('myTransport.subscribe()', options);
 * ```
 */
export interface ResolvedTransportSubscribeOptions {
  /** The exact topics, without duplicates (empty when only a pattern was given). */
  readonly topics: ReadonlyArray<string>;
  /** The pattern as given. */
  readonly pattern: string | undefined;
  /** The compiled pattern, when one was given. */
  readonly match: ((topic: string) => boolean) | undefined;
  /** The consumer group, if any. */
  readonly group: string | undefined;
  /** Most deliveries at once. */
  readonly concurrency: number;
  /** Lease length of a delivery. */
  readonly visibilityTimeoutMs: number;
}

const DEFAULT_CONCURRENCY = 1;
const DEFAULT_VISIBILITY_TIMEOUT_MS = 30_000;

/**
 * Validates the options every transport's `subscribe` takes, the same way for all of them, and applies the
 * contract's defaults (concurrency 1, visibility timeout 30 s). Transports add their own checks (key-safe names,
 * say) before or after it.
 *
 * @throws {@link InvalidOptionError} naming the option at fault, or `InvalidPatternError` for a malformed pattern.
 * @example
 * ```ts
 * async subscribe(options, handler) {
 *   const resolved = resolveTransportSubscribeOptions('redisTransport.subscribe()', options);
 *   // ...
 * }
 * ```
 */
export function resolveTransportSubscribeOptions(
  where: string,
  options: TransportSubscribeOptions,
): ResolvedTransportSubscribeOptions {
  const { topics, pattern, group } = options;
  if (topics !== undefined && !Array.isArray(topics)) {
    throw new InvalidOptionError(where, 'topics', 'must be an array of topic names');
  }
  topics?.forEach((topic, index) => {
    if (typeof topic !== 'string' || topic.length === 0) {
      throw new InvalidOptionError(where, `topics[${index}]`, 'must be a non-empty string');
    }
    if (isPattern(topic)) {
      throw new InvalidOptionError(
        where,
        `topics[${index}]`,
        `("${topic}") is a pattern; pass it as "pattern"`,
      );
    }
  });
  if (pattern !== undefined && typeof pattern !== 'string') {
    throw new InvalidOptionError(where, 'pattern', 'must be a string');
  }
  if ((topics === undefined || topics.length === 0) && pattern === undefined) {
    throw new InvalidOptionError(where, 'topics', 'must list at least one topic, or "pattern" must be given');
  }
  if (group !== undefined && (typeof group !== 'string' || group.length === 0)) {
    throw new InvalidOptionError(where, 'group', 'must be a non-empty string when given');
  }
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw new InvalidOptionError(where, 'concurrency', `must be an integer >= 1, got ${String(concurrency)}`);
  }
  const visibilityTimeoutMs = options.visibilityTimeoutMs ?? DEFAULT_VISIBILITY_TIMEOUT_MS;
  if (
    typeof visibilityTimeoutMs !== 'number' ||
    !(visibilityTimeoutMs > 0) ||
    !Number.isFinite(visibilityTimeoutMs)
  ) {
    throw new InvalidOptionError(
      where,
      'visibilityTimeoutMs',
      `must be a finite number of milliseconds > 0, got ${String(visibilityTimeoutMs)}`,
    );
  }
  return {
    topics: [...new Set(topics ?? [])],
    pattern,
    match: pattern === undefined ? undefined : compilePattern(pattern),
    group,
    concurrency,
    visibilityTimeoutMs,
  };
}

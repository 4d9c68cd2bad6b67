import { compilePattern, InvalidOptionError, type TransportSubscribeOptions } from '@relaybus/core';
import { checkGroup, isPattern, topicProblem } from './names';
import { DEFAULTS } from './options';

/** A subscription's filter and limits, validated. */
export interface SubscriptionSpec {
  readonly topics: ReadonlyArray<string>;
  readonly pattern: string | undefined;
  readonly match: ((topic: string) => boolean) | undefined;
  readonly group: string | undefined;
  readonly concurrency: number;
  readonly visibilityTimeoutMs: number;
}

const WHERE = 'redisTransport.subscribe()';

/**
 * Validates subscribe options and applies defaults.
 *
 * @throws `InvalidOptionError` naming the offending option, or `InvalidPatternError` for a bad pattern.
 */
export function resolveSubscribeOptions(options: TransportSubscribeOptions): SubscriptionSpec {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError(WHERE, 'options', 'must be an object');
  }
  const { topics, pattern, group } = options;
  if (topics !== undefined && !Array.isArray(topics)) {
    throw new InvalidOptionError(WHERE, 'topics', 'must be an array of topic names');
  }
  topics?.forEach((topic, index) => {
    const problem = topicProblem(topic);
    if (problem !== undefined) throw new InvalidOptionError(WHERE, `topics[${index}]`, problem);
    if (isPattern(topic)) {
      throw new InvalidOptionError(
        WHERE,
        `topics[${index}]`,
        `("${topic}") is a pattern; pass it as "pattern"`,
      );
    }
  });
  if (pattern !== undefined && typeof pattern !== 'string') {
    throw new InvalidOptionError(WHERE, 'pattern', 'must be a string');
  }
  if ((topics === undefined || topics.length === 0) && pattern === undefined) {
    throw new InvalidOptionError(WHERE, 'topics', 'must list at least one topic, or "pattern" must be given');
  }
  if (group !== undefined) checkGroup(group, WHERE);
  const concurrency = options.concurrency ?? DEFAULTS.concurrency;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw new InvalidOptionError(WHERE, 'concurrency', `must be an integer >= 1, got ${String(concurrency)}`);
  }
  const visibilityTimeoutMs = options.visibilityTimeoutMs ?? DEFAULTS.visibilityTimeoutMs;
  if (
    typeof visibilityTimeoutMs !== 'number' ||
    !(visibilityTimeoutMs > 0) ||
    !Number.isFinite(visibilityTimeoutMs)
  ) {
    throw new InvalidOptionError(
      WHERE,
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

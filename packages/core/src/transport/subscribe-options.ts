import { InvalidOptionError } from '../errors';
import { compilePattern, isPattern } from './topic-pattern';
import type { GroupDeclaration, StartFrom, TransportSubscribeOptions } from './transport';

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
  /** Where the group starts if this subscribe creates it (`'latest'` for group-less subscribers). */
  readonly startFrom: StartFrom;
  /** Most deliveries at once. */
  readonly concurrency: number;
  /** Lease length of a delivery. */
  readonly visibilityTimeoutMs: number;
}

const DEFAULT_CONCURRENCY = 1;
const GROUP_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;
const DEFAULT_VISIBILITY_TIMEOUT_MS = 30_000;

/**
 * Validates the options every transport's `subscribe` takes, the same way for all of them, and applies the
 * contract's defaults (concurrency 1, visibility timeout 30 s). Transports add their own checks (key-safe names,
 * say) before or after it.
 *
 * @throws `InvalidOptionError` naming the option at fault, or `InvalidPatternError` for a malformed pattern.
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
  const { topics, pattern } = options;
  const match = resolveTopics(where, topics, pattern);
  const group = options.group;
  if (group !== undefined) checkGroupName(where, 'group', group);
  const startFrom = resolveStartFrom(where, options.startFrom, group);
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
    match,
    group,
    startFrom,
    concurrency,
    visibilityTimeoutMs,
  };
}

/**
 * A group declaration after validation, with defaults applied.
 *
 * @example
 * ```ts
 * const { group, topics, match, startFrom } = resolveGroupDeclaration('myTransport.declareGroup()', declaration);
 * ```
 */
export interface ResolvedGroupDeclaration {
  readonly group: string;
  /** The exact topics, without duplicates (empty when only a pattern was given). */
  readonly topics: ReadonlyArray<string>;
  readonly pattern: string | undefined;
  readonly match: ((topic: string) => boolean) | undefined;
  readonly startFrom: StartFrom;
}

/**
 * Validates what every transport's `declareGroup` takes, with the same rules as `subscribe`.
 *
 * @throws `InvalidOptionError` naming the option at fault, or `InvalidPatternError` for a malformed pattern.
 * @example
 * ```ts
 * async declareGroup(declaration) {
 *   const resolved = resolveGroupDeclaration('redisTransport.declareGroup()', declaration);
 *   // ...
 * }
 * ```
 */
export function resolveGroupDeclaration(
  where: string,
  declaration: GroupDeclaration,
): ResolvedGroupDeclaration {
  if (typeof declaration !== 'object' || declaration === null) {
    throw new InvalidOptionError(where, 'declaration', 'must be an object such as { group, topics }');
  }
  const { group, topics, pattern } = declaration;
  if (group === undefined) throw new InvalidOptionError(where, 'group', 'is required');
  checkGroupName(where, 'group', group);
  const match = resolveTopics(where, topics, pattern);
  return {
    group,
    topics: [...new Set(topics ?? [])],
    pattern,
    match,
    startFrom: resolveStartFrom(where, declaration.startFrom, group),
  };
}

/**
 * Checks a consumer group name against the rule every transport shares: 1 to 128 letters, digits and `_.:-`,
 * starting with a letter or digit. Every broker relaybus supports can name a group this way, so a name that works
 * on one transport works on all.
 *
 * @throws `InvalidOptionError` saying what is wrong with the name.
 * @example
 * ```ts
 * checkGroupName('subscribe(task.created)', 'group', 'a b'); // throws: may only contain letters, digits and "_.:-"
 * ```
 */
export function checkGroupName(where: string, option: string, group: unknown): asserts group is string {
  if (typeof group !== 'string' || group.length === 0) {
    throw new InvalidOptionError(where, option, `must be a non-empty string, got ${describe(group)}`);
  }
  if (!GROUP_NAME.test(group)) {
    throw new InvalidOptionError(
      where,
      option,
      `(${JSON.stringify(group)}) must be 1 to 128 letters, digits and "_.:-", starting with a letter or digit, so that every transport can name it`,
    );
  }
}

function resolveTopics(
  where: string,
  topics: ReadonlyArray<string> | undefined,
  pattern: string | undefined,
): ((topic: string) => boolean) | undefined {
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
  return pattern === undefined ? undefined : compilePattern(pattern);
}

function resolveStartFrom(where: string, startFrom: unknown, group: string | undefined): StartFrom {
  if (startFrom === undefined) return group === undefined ? 'latest' : 'earliest';
  if (startFrom !== 'earliest' && startFrom !== 'latest') {
    throw new InvalidOptionError(
      where,
      'startFrom',
      `must be 'earliest' or 'latest', got ${describe(startFrom)}`,
    );
  }
  if (group === undefined) {
    throw new InvalidOptionError(
      where,
      'startFrom',
      'applies to consumer groups only: a subscriber without a group receives what is published after it subscribed',
    );
  }
  return startFrom;
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

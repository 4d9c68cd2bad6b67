import { InvalidPatternError } from '../errors';

type SplitWords<S extends string> = S extends `${infer Head}.${infer Tail}`
  ? [Head, ...SplitWords<Tail>]
  : [S];

type MatchWords<P extends readonly string[], T extends readonly string[]> = P extends [
  infer PHead extends string,
  ...infer PTail extends string[],
]
  ? PHead extends '#'
    ? MatchWords<PTail, T> extends true
      ? true
      : T extends [string, ...infer TTail extends string[]]
        ? MatchWords<P, TTail>
        : false
    : T extends [infer THead extends string, ...infer TTail extends string[]]
      ? PHead extends '*'
        ? MatchWords<PTail, TTail>
        : PHead extends THead
          ? MatchWords<PTail, TTail>
          : false
      : false
  : T extends []
    ? true
    : false;

/**
 * `true` when the topic `TTopic` matches the AMQP-style pattern `TPattern` (`*` one word, `#` zero or more).
 *
 * @example
 * ```ts
 * type Yes = TopicMatches<'task.*', 'task.created'>; // true
 * type No = TopicMatches<'task.*', 'task.dates.changed'>; // false
 * ```
 */
export type TopicMatches<TPattern extends string, TTopic extends string> = MatchWords<
  SplitWords<TPattern>,
  SplitWords<TTopic>
>;

/** Whether a string uses wildcards, i.e. is a pattern rather than an exact topic. */
export function isPattern(value: string): boolean {
  return value.includes('*') || value.includes('#');
}

/**
 * Compiles an AMQP-style topic pattern into a matcher; results are cached per topic.
 *
 * @throws `InvalidPatternError` for empty patterns, empty words or wildcards inside words.
 * @example
 * ```ts
 * const matches = compilePattern('task.#');
 * matches('task.dates.changed'); // true
 * ```
 */
export function compilePattern(pattern: string): (topic: string) => boolean {
  if (typeof pattern !== 'string' || pattern.length === 0) {
    throw new InvalidPatternError(String(pattern), 'it is empty');
  }
  const words = pattern.split('.');
  words.forEach((word, index) => {
    if (word.length === 0) throw new InvalidPatternError(pattern, `word ${index + 1} is empty`);
    if (word !== '*' && word !== '#' && (word.includes('*') || word.includes('#'))) {
      throw new InvalidPatternError(pattern, `"${word}" mixes a wildcard with other characters`);
    }
  });
  const cache = new Map<string, boolean>();
  return (topic) => {
    let hit = cache.get(topic);
    if (hit === undefined) {
      hit = matchWords(words, 0, topic.split('.'), 0);
      if (cache.size > 10_000) cache.clear();
      cache.set(topic, hit);
    }
    return hit;
  };
}

function matchWords(pattern: string[], p: number, topic: string[], t: number): boolean {
  if (p === pattern.length) return t === topic.length;
  const word = pattern[p];
  if (word === '#') {
    for (let skip = t; skip <= topic.length; skip++) if (matchWords(pattern, p + 1, topic, skip)) return true;
    return false;
  }
  if (t === topic.length) return false;
  return (word === '*' || word === topic[t]) && matchWords(pattern, p + 1, topic, t + 1);
}

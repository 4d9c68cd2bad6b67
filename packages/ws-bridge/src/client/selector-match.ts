import type { Envelope } from '@relaybus/core';
import type { Selector } from '../protocol';
import { BridgeError } from './errors';

const WORD = '(\\*|#|[^*#.]+)';
const PATTERN = new RegExp(`^${WORD}(\\.${WORD})*$`);

function matchWords(pattern: string[], p: number, topic: string[], t: number): boolean {
  if (p === pattern.length) return t === topic.length;
  if (pattern[p] === '#') {
    for (let skip = t; skip <= topic.length; skip++) if (matchWords(pattern, p + 1, topic, skip)) return true;
    return false;
  }
  return (
    t < topic.length &&
    (pattern[p] === '*' || pattern[p] === topic[t]) &&
    matchWords(pattern, p + 1, topic, t + 1)
  );
}

/**
 * Whether `topic` (an event type) matches the AMQP-style `pattern`: `*` is exactly one dot-separated word, `#` zero
 * or more. The same rule as `compilePattern` of `@relaybus/core`, which the client cannot import at runtime.
 *
 * @example
 * ```ts
 * matchesPattern('task.#', 'task.dates.changed'); // true
 * matchesPattern('task.*', 'task.dates.changed'); // false
 * ```
 */
export function matchesPattern(pattern: string, topic: string): boolean {
  return matchWords(pattern.split('.'), 0, topic.split('.'), 0);
}

/**
 * Whether a subscription with this selector receives `event`: its type is one of `types` or matches `pattern`, its
 * subject is (one of) `subject`, and its metadata holds every `metadata` value.
 *
 * @example
 * ```ts
 * matchesSelector({ pattern: 'task.*', subject: ['t1', 't2'] }, event);
 * ```
 */
export function matchesSelector(selector: Selector, event: Envelope): boolean {
  const { types, pattern, subject, metadata = {} } = selector;
  return (
    (types?.includes(event.type) || (pattern !== undefined && matchesPattern(pattern, event.type))) ===
      true &&
    (subject === undefined ||
      (event.subject !== undefined &&
        (typeof subject === 'string' ? subject === event.subject : subject.includes(event.subject)))) &&
    Object.keys(metadata).every((key) => event.metadata?.[key] === metadata[key])
  );
}

/**
 * Refuses a selector the server would refuse for its shape, before it goes on the wire.
 *
 * @throws {@link BridgeError} `invalid_option` naming the problem.
 * @example
 * ```ts
 * checkSelector({ pattern: 'task..x' }); // throws: pattern "task..x" is malformed ...
 * ```
 */
export function checkSelector(selector: Selector): void {
  const { types, pattern } = selector;
  if (!types?.length && pattern === undefined) {
    throw new BridgeError('invalid_option', 'subscribe: give "types", "pattern", or both');
  }
  if (pattern !== undefined && !PATTERN.test(pattern)) {
    throw new BridgeError(
      'invalid_option',
      `subscribe: pattern "${pattern}" is malformed: use dot-separated words, with "*" or "#" as whole words`,
    );
  }
}

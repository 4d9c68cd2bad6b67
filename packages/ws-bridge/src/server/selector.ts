import { type Envelope, RelaybusError } from '@relaybus/core';
import { compilePattern } from '@relaybus/core/transport-kit';
import type { Selector } from '../protocol';

/** Most event types one subscription may list. */
const MAX_TYPES = 100;
/** Most subjects one subscription may list. */
const MAX_SUBJECTS = 100;
/** Most metadata keys one subscription may filter on. */
const MAX_METADATA = 20;
/** Longest type, pattern, subject, metadata key or value accepted. */
const MAX_STRING = 256;

/**
 * A selector checked and compiled: `matches` says whether an event is one the subscription receives.
 *
 * @example
 * ```ts
 * const compiled = compileSelector({ pattern: 'task.*' });
 * if (typeof compiled === 'string') throw new Error(compiled);
 * compiled.matches(event);
 * ```
 */
export interface CompiledSelector {
  /** The selector as the client sent it, without unknown fields (what `authorize.subscribe` sees). */
  readonly selector: Selector;
  /** Whether the event is one this selector receives. */
  readonly matches: (event: Envelope) => boolean;
}

const isString = (value: unknown): value is string => typeof value === 'string';

function checkStrings(field: string, value: unknown, max: number): string | ReadonlyArray<string> {
  if (!Array.isArray(value)) return `"${field}" must be an array of strings`;
  if (value.length === 0) return `"${field}" must not be empty`;
  if (value.length > max) return `"${field}" holds ${value.length} entries; at most ${max} are allowed`;
  for (const [index, entry] of value.entries()) {
    if (!isString(entry) || entry.length === 0 || entry.length > MAX_STRING) {
      return `"${field}[${index}]" must be a non-empty string of at most ${MAX_STRING} characters`;
    }
  }
  return value as ReadonlyArray<string>;
}

/**
 * Checks a selector from the wire and compiles it. Returns the problem, naming the field, when it is not valid.
 *
 * @example
 * ```ts
 * compileSelector({ types: ['task.created'], subject: 'task-1' });
 * compileSelector({ pattern: 'task..x' }); // 'pattern "task..x" is malformed: word 2 is empty'
 * ```
 */
export function compileSelector(frame: Record<string, unknown>): CompiledSelector | string {
  const { types, pattern, subject, metadata } = frame;
  if (types === undefined && pattern === undefined) return 'give "types", "pattern", or both';
  const checks: Array<(event: Envelope) => boolean> = [];
  const selector: { -readonly [K in keyof Selector]: Selector[K] } = {};
  const anyOf: Array<(event: Envelope) => boolean> = [];
  if (types !== undefined) {
    const list = checkStrings('types', types, MAX_TYPES);
    if (isString(list)) return list;
    const set = new Set(list);
    selector.types = [...set];
    anyOf.push((event) => set.has(event.type));
  }
  if (pattern === '#') {
    selector.pattern = pattern;
    anyOf.push(() => true);
  } else if (pattern !== undefined) {
    if (!isString(pattern) || pattern.length > MAX_STRING) {
      return `"pattern" must be a string of at most ${MAX_STRING} characters`;
    }
    let matches: (topic: string) => boolean;
    try {
      matches = compilePattern(pattern);
    } catch (error) {
      return RelaybusError.is(error) ? error.message : `"pattern" ${JSON.stringify(pattern)} is malformed`;
    }
    selector.pattern = pattern;
    anyOf.push((event) => matches(event.type));
  }
  checks.push(
    anyOf.length === 1 ? (anyOf[0] as (event: Envelope) => boolean) : (e) => anyOf.some((m) => m(e)),
  );
  if (subject !== undefined) {
    const list = isString(subject) ? [subject] : checkStrings('subject', subject, MAX_SUBJECTS);
    if (isString(list)) return list;
    if (list.some((entry) => entry.length === 0 || entry.length > MAX_STRING)) {
      return `"subject" must be a non-empty string of at most ${MAX_STRING} characters`;
    }
    const set = new Set(list);
    selector.subject = isString(subject) ? subject : [...set];
    checks.push((event) => event.subject !== undefined && set.has(event.subject));
  }
  if (metadata !== undefined) {
    if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) {
      return '"metadata" must be an object of string values';
    }
    const entries = Object.entries(metadata);
    if (entries.length === 0 || entries.length > MAX_METADATA) {
      return `"metadata" must hold 1 to ${MAX_METADATA} keys`;
    }
    for (const [key, value] of entries) {
      if (!isString(value) || key.length > MAX_STRING || value.length > MAX_STRING) {
        return `"metadata.${key.slice(0, 40)}" must be a string of at most ${MAX_STRING} characters`;
      }
    }
    selector.metadata = Object.fromEntries(entries) as Record<string, string>;
    checks.push((event) => entries.every(([key, value]) => event.metadata?.[key] === value));
  }
  const [first, ...rest] = checks as [(event: Envelope) => boolean, ...Array<(event: Envelope) => boolean>];
  const check =
    rest.length === 0 ? first : (event: Envelope) => first(event) && rest.every((more) => more(event));
  const key = JSON.stringify(selector);
  let known = compiled.get(key);
  if (known === undefined) {
    if (compiled.size >= 10_000) compiled.clear();
    known = { selector, matches: shared(check) };
    compiled.set(key, known);
  }
  return known;
}

/**
 * Compiled selectors by their JSON: connections with the same selector share one, and its matcher answers once per
 * event (the fan-out asks every connection about every event, and thousands of browsers tend to hold the same few
 * selectors). Past a bound the cache starts over (a connection keeps the selector it has).
 */
const compiled = new Map<string, CompiledSelector>();

/** A matcher that remembers its answer for the last event it was asked about. */
function shared(check: (event: Envelope) => boolean): (event: Envelope) => boolean {
  let last: Envelope | undefined;
  let answer = false;
  return (event) => {
    if (event !== last) {
      last = event;
      answer = check(event);
    }
    return answer;
  };
}

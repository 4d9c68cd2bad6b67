import { InvalidOptionError } from '@relaybus/core';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
/** Lane token of messages without a key: any member of a group may take them, many at once. */
export const UNKEYED_LANE = 'u';
/** Root of the subjects of the auxiliary streams, apart from every prefix (a prefix cannot start with `_`). */
const AUX_ROOT = '_relaybus';

/**
 * Checks a prefix or stream name: it becomes a subject token and part of stream names.
 *
 * @throws `InvalidOptionError` naming `where` and `option`.
 */
export function checkName(where: string, option: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || !NAME.test(value) || value.includes('__')) {
    throw new InvalidOptionError(
      where,
      option,
      `must be 1 to 64 letters, digits, "_" and "-", starting with a letter or digit and without "__", got ${JSON.stringify(value)}`,
    );
  }
}

/**
 * Why `topic` cannot be a NATS subject tail, or `undefined` when it can: dot-separated words, none empty, without
 * whitespace or the NATS wildcards `*` and `>`.
 */
export function topicProblem(topic: string): string | undefined {
  if (/\s/.test(topic)) return 'must not contain whitespace (it becomes a NATS subject)';
  for (const word of topic.split('.')) {
    if (word.length === 0)
      return 'must be dot-separated words, none of them empty (it becomes a NATS subject)';
    if (word.includes('*') || word.includes('>')) {
      return 'must not contain "*" or ">" (NATS wildcards; it becomes a NATS subject)';
    }
  }
  return undefined;
}

/** FNV-1a over the UTF-16 code units: stable across processes, so every publisher picks the same partition. */
export function hash32(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** Every subject and stream name of one deployment. */
export class Names {
  readonly prefix: string;
  readonly stream: string;
  readonly delayedStream: string;
  readonly deadStream: string;
  readonly delayedSubject: string;
  readonly deadSubject: string;
  readonly #prefixLength: number;

  constructor(prefix: string, stream: string) {
    this.prefix = prefix;
    this.stream = stream;
    this.delayedStream = `${stream}__delayed`;
    this.deadStream = `${stream}__dead`;
    this.delayedSubject = `${AUX_ROOT}.${prefix}.delayed`;
    this.deadSubject = `${AUX_ROOT}.${prefix}.dead`;
    this.#prefixLength = prefix.length + 1;
  }

  /** The lane of a message: its key's partition, or the unkeyed lane. */
  lane(key: string | undefined, partitions: number): string {
    return key === undefined ? UNKEYED_LANE : `k${hash32(key) % partitions}`;
  }

  /** Every lane of a deployment with `partitions` partitions, the unkeyed one first. */
  lanes(partitions: number): string[] {
    return [UNKEYED_LANE, ...Array.from({ length: partitions }, (_, index) => `k${index}`)];
  }

  /** Where a message of `topic` in `lane` is stored. */
  subject(lane: string, topic: string): string {
    return `${this.prefix}.${lane}.${topic}`;
  }

  /** The topic of a stored message's subject (what follows the prefix and the lane). */
  topicOf(subject: string): string {
    const afterLane = subject.indexOf('.', this.#prefixLength);
    return subject.slice(afterLane + 1);
  }

  /** The filter subject of `tail` (see {@link filterTails}) in one lane, or in every lane. */
  filter(lane: string | '*', tail: string): string {
    return `${this.prefix}.${lane}.${tail}`;
  }
}

/**
 * The NATS filter tails that cover an AMQP-style pattern. `*` maps to `*`. A `#` that ends the pattern matches zero
 * or more words, which needs two filters (`task` and `task.>`, since `>` matches one or more); a `#` before the end
 * becomes `>` there, and the consumer filters what `>` lets through by the pattern itself.
 *
 * @example
 * ```ts
 * filterTails('task.#'); // ['task', 'task.>']
 * filterTails('a.#.b'); // ['a.>']
 * ```
 */
export function filterTails(pattern: string): string[] {
  const words = pattern.split('.');
  const tokens: string[] = [];
  for (const [index, word] of words.entries()) {
    if (word !== '#') {
      tokens.push(word);
      continue;
    }
    if (index < words.length - 1 || tokens.length === 0) return [[...tokens, '>'].join('.')];
    return [tokens.join('.'), [...tokens, '>'].join('.')];
  }
  return [tokens.join('.')];
}

/**
 * The durable consumer name of a group on one filter tail and lane: readable where the group name allows, unique
 * through a hash of everything that identifies it.
 */
export function consumerName(group: string, identity: string, lane: string): string {
  const readable = group.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64);
  return `${readable}_${lane}_${hash32(`${group}\u0000${identity}`).toString(36)}`;
}

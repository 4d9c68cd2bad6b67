import { InvalidOptionError } from '@relaybus/core';

/** Characters allowed in a prefix: nothing that could break key naming or a Cluster hash tag. */
const SAFE_PREFIX = /^[A-Za-z0-9._:@/-]+$/;
const MAX_PREFIX_LENGTH = 200;
const MAX_TOPIC_LENGTH = 512;
/** Braces would change the Cluster hash tag; whitespace and control characters make keys unreadable. */
const UNSAFE_TOPIC = /[{}\s\p{Cc}]/u;

/**
 * The consumer-group name prefix reserved for group-less subscribers. Core's group-name rule (a letter or digit
 * first) keeps user groups from ever starting with it.
 */
export const EPHEMERAL_GROUP_PREFIX = '~e:';
/** Target of a redriven group-less dead letter: every group-less subscriber. */
export const ANY_GROUPLESS = '~';

/**
 * Checks a key prefix. Group names need no check of their own: core's rule for every transport
 * (`checkGroupName`) only allows characters that are safe in Redis keys.
 *
 * @throws `InvalidOptionError` when it is empty, too long or has characters outside `[A-Za-z0-9._:@/-]`.
 */
export function checkPrefix(prefix: unknown, where: string): asserts prefix is string {
  if (typeof prefix !== 'string' || prefix.length === 0 || prefix.length > MAX_PREFIX_LENGTH) {
    throw new InvalidOptionError(where, 'prefix', `must be a string of 1 to ${MAX_PREFIX_LENGTH} characters`);
  }
  if (!SAFE_PREFIX.test(prefix)) {
    throw new InvalidOptionError(
      where,
      'prefix',
      `("${prefix}") may only contain letters, digits and "._:@/-": braces, spaces and other characters would break Redis key naming`,
    );
  }
}

/** Returns why `topic` cannot name Redis keys, or `undefined` when it can. */
export function topicProblem(topic: unknown): string | undefined {
  if (typeof topic !== 'string' || topic.length === 0) return 'must be a non-empty string';
  if (topic.length > MAX_TOPIC_LENGTH) return `must be at most ${MAX_TOPIC_LENGTH} characters`;
  if (UNSAFE_TOPIC.test(topic)) {
    return `("${topic}") must not contain braces, whitespace or control characters (they would break Redis key naming)`;
  }
  return undefined;
}

/** Whether a string uses wildcards, i.e. is a pattern rather than an exact topic. */
export function isPattern(value: string): boolean {
  return value.includes('*') || value.includes('#');
}

/**
 * Every Redis key, channel and group name the transport uses. All keys of one topic share the hash tag
 * `{topic}`, so every multi-key command and script of a topic runs in one Cluster slot.
 */
export class KeySpace {
  readonly prefix: string;
  /** Hash of topic → partition count: the topic registry. */
  readonly registry: string;
  /** Pub/sub channel for new topics and membership changes. */
  readonly channel: string;
  /** Stream of dead letters. */
  readonly deadLetters: string;
  /** Set of groups declared with a pattern (`[group, pattern]` JSON), which new topics get at registration. */
  readonly declared: string;

  constructor(prefix: string) {
    this.prefix = prefix;
    this.registry = `${prefix}:topics`;
    this.channel = `${prefix}:ctl`;
    this.deadLetters = `${prefix}:dlq`;
    this.declared = `${prefix}:declared`;
  }

  /** Common start of every key of a topic; ends with the hash tag. */
  topicBase(topic: string): string {
    return `${this.prefix}:{${topic}}`;
  }

  /** Stream of partition `partition` of `topic`. */
  stream(topic: string, partition: number): string {
    return `${this.prefix}:{${topic}}:s:${partition}`;
  }

  /** Every partition stream of `topic`. */
  streams(topic: string, partitions: number): string[] {
    return Array.from({ length: partitions }, (_, partition) => this.stream(topic, partition));
  }

  /** Sorted set of delayed messages of `topic`, scored by due time. */
  delayed(topic: string): string {
    return `${this.prefix}:{${topic}}:d`;
  }

  /** Sorted set of the live members of `group` on `topic`, scored by heartbeat expiry. */
  members(topic: string, group: string): string {
    return `${this.prefix}:{${topic}}:m:${group}`;
  }

  /** Hash of partition leases of `group` on `topic`. */
  leases(topic: string, group: string): string {
    return `${this.prefix}:{${topic}}:l:${group}`;
  }
}

/**
 * The partition of an ordering key: FNV-1a over its UTF-16 code units, modulo `partitions`. Stable across
 * processes and versions, since it decides which member handles a key.
 */
export function partitionOfKey(key: string, partitions: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % partitions;
}

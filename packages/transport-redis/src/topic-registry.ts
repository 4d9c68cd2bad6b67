import { compilePattern } from '@relaybus/core/transport-kit';
import type { RedisClient } from './connection';
import { createGroups } from './consumer/group-setup';
import type { KeySpace } from './names';

/** A control message on the transport's pub/sub channel. */
export type ControlMessage =
  | { readonly kind: 'topic'; readonly topic: string }
  | { readonly kind: 'rebalance'; readonly topic: string; readonly group: string };

/**
 * The topics of a prefix with their partition counts (a Redis hash), cached in-process so that publishing
 * touches the registry only the first time a process uses a topic. Registering a new topic announces it on the
 * control channel, which is how pattern subscriptions learn about topics that appear after they started.
 *
 * It also keeps the groups declared with a pattern (a Redis set), so that a topic first published after the
 * declaration gets those groups before its first message, even while no member of them runs. Both sides write
 * first and read second (the declarer adds its pattern, then lists the topics; a process using a topic for the
 * first time registers it, then lists the patterns), so whichever comes second sees the other: no topic can slip
 * between a declaration and its groups.
 */
export class TopicRegistry {
  readonly #redis: RedisClient;
  readonly #keys: KeySpace;
  readonly #defaultPartitions: number;
  readonly #known = new Map<string, number>();
  readonly #pending = new Map<string, Promise<number>>();
  readonly #patterns = new Map<string, (topic: string) => boolean>();

  constructor(redis: RedisClient, keys: KeySpace, defaultPartitions: number) {
    this.#redis = redis;
    this.#keys = keys;
    this.#defaultPartitions = defaultPartitions;
  }

  /** Partition count of a topic this process has already seen, without a round trip. */
  cached(topic: string): number | undefined {
    return this.#known.get(topic);
  }

  /** Registers `topic` (first writer fixes its partition count) and returns its partition count. */
  ensure(topic: string): Promise<number> {
    const known = this.#known.get(topic);
    if (known !== undefined) return Promise.resolve(known);
    let pending = this.#pending.get(topic);
    if (pending === undefined) {
      pending = this.#register(topic).finally(() => this.#pending.delete(topic));
      this.#pending.set(topic, pending);
    }
    return pending;
  }

  /** Every registered topic with its partition count. */
  async all(): Promise<Map<string, number>> {
    const raw = await this.#redis.hgetall(this.#keys.registry);
    const topics = new Map<string, number>();
    for (const [topic, value] of Object.entries(raw)) {
      const partitions = Number(value);
      if (Number.isSafeInteger(partitions) && partitions > 0) {
        topics.set(topic, partitions);
        this.#known.set(topic, partitions);
      }
    }
    return topics;
  }

  /**
   * Records that `group` takes every topic matching `pattern` that is registered from now on, starting at its
   * first message. Idempotent.
   */
  async declarePattern(group: string, pattern: string): Promise<void> {
    await this.#redis.sadd(this.#keys.declared, JSON.stringify([group, pattern]));
  }

  /** Publishes a control message; best effort (periodic polling is the safety net). */
  announce(message: ControlMessage): Promise<void> {
    const payload = message.kind === 'topic' ? ['t', message.topic] : ['r', message.topic, message.group];
    return this.#redis.publish(this.#keys.channel, JSON.stringify(payload)).then(
      () => undefined,
      () => undefined,
    );
  }

  async #register(topic: string): Promise<number> {
    const registry = this.#keys.registry;
    const results = await this.#redis
      .pipeline()
      .hsetnx(registry, topic, String(this.#defaultPartitions))
      .hget(registry, topic)
      .exec();
    const [created, current] = results ?? [];
    if (created?.[0]) throw created[0];
    if (current?.[0]) throw current[0];
    const partitions = Number(current?.[1]);
    const resolved =
      Number.isSafeInteger(partitions) && partitions > 0 ? partitions : this.#defaultPartitions;
    // Every process does this on its first use of a topic, not only the one that registered it: its first message
    // must not get ahead of the declared groups (an existing group keeps its position).
    const streams = this.#keys.streams(topic, resolved);
    for (const group of await this.#declaredGroups(topic))
      await createGroups(this.#redis, streams, group, '0');
    this.#known.set(topic, resolved);
    if (created?.[1] === 1) await this.announce({ kind: 'topic', topic });
    return resolved;
  }

  /** Groups declared with a pattern that matches `topic`. */
  async #declaredGroups(topic: string): Promise<string[]> {
    const groups = new Set<string>();
    for (const member of await this.#redis.smembers(this.#keys.declared)) {
      const declared = parseDeclaration(member);
      if (declared === undefined) continue;
      let match = this.#patterns.get(declared.pattern);
      if (match === undefined) {
        match = compileStored(declared.pattern);
        this.#patterns.set(declared.pattern, match);
      }
      if (match(topic)) groups.add(declared.group);
    }
    return [...groups];
  }
}

/** A stored pattern's matcher; one that does not compile (not written by this transport) matches nothing. */
function compileStored(pattern: string): (topic: string) => boolean {
  try {
    return compilePattern(pattern);
  } catch {
    return () => false;
  }
}

function parseDeclaration(member: string): { group: string; pattern: string } | undefined {
  try {
    const value: unknown = JSON.parse(member);
    if (Array.isArray(value) && typeof value[0] === 'string' && typeof value[1] === 'string') {
      return { group: value[0], pattern: value[1] };
    }
  } catch {
    // Not written by this transport: ignored.
  }
  return undefined;
}

/** Parses a control channel payload; `undefined` for anything else. */
export function parseControlMessage(payload: string): ControlMessage | undefined {
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value)) return undefined;
  const [kind, topic, group] = value as unknown[];
  if (typeof topic !== 'string') return undefined;
  if (kind === 't') return { kind: 'topic', topic };
  if (kind === 'r' && typeof group === 'string') return { kind: 'rebalance', topic, group };
  return undefined;
}

import type { RedisClient } from './connection';
import type { KeySpace } from './names';

/** A control message on the transport's pub/sub channel. */
export type ControlMessage =
  | { readonly kind: 'topic'; readonly topic: string }
  | { readonly kind: 'rebalance'; readonly topic: string; readonly group: string };

/**
 * The topics of a prefix with their partition counts (a Redis hash), cached in-process so that publishing
 * touches the registry only the first time a process uses a topic. Registering a new topic announces it on the
 * control channel, which is how pattern subscriptions learn about topics that appear after they started.
 */
export class TopicRegistry {
  readonly #redis: RedisClient;
  readonly #keys: KeySpace;
  readonly #defaultPartitions: number;
  readonly #known = new Map<string, number>();
  readonly #pending = new Map<string, Promise<number>>();

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
    this.#known.set(topic, resolved);
    if (created?.[1] === 1) await this.announce({ kind: 'topic', topic });
    return resolved;
  }
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

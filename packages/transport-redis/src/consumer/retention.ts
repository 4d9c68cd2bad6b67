import type { Logger } from '@relaybus/core';
import type { RedisClient } from '../connection';
import { EPHEMERAL_GROUP_PREFIX, type KeySpace } from '../names';
import type { RedisRetentionOptions } from '../options';
import { TRIM_SCRIPT } from '../scripts';
import type { TopicLane } from './topic-lane';

/** Consumers with nothing pending and no activity for this long are removed from their group. */
const IDLE_CONSUMER_MS = 60 * 60 * 1_000;

/**
 * Trims the partition streams a subscription owns, every `trimIntervalMs`: approximate `MINID` trimming to the
 * retention cutoff, but never past the oldest entry some group has not read or still has pending. Also removes
 * the groups of group-less subscribers that died without closing.
 */
export class Trimmer {
  readonly #redis: RedisClient;
  readonly #keys: KeySpace;
  readonly #retention: RedisRetentionOptions;
  readonly #lanes: () => Iterable<TopicLane>;
  readonly #logger: Logger | undefined;
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(
    redis: RedisClient,
    keys: KeySpace,
    retention: RedisRetentionOptions,
    intervalMs: number,
    lanes: () => Iterable<TopicLane>,
    logger: Logger | undefined,
  ) {
    this.#redis = redis;
    this.#keys = keys;
    this.#retention = retention;
    this.#lanes = lanes;
    this.#logger = logger;
    this.#timer = setInterval(() => void this.trim(), intervalMs);
  }

  /** Trims every partition currently read. Resolves with the number of entries removed. */
  async trim(): Promise<number> {
    const [mode, value] =
      'maxLen' in this.#retention ? ['len', this.#retention.maxLen] : ['age', this.#retention.minAgeMs];
    let trimmed = 0;
    try {
      for (const lane of this.#lanes()) {
        const base = this.#keys.topicBase(lane.topic);
        for (const partition of lane.live()) {
          const reply = await TRIM_SCRIPT.run(
            this.#redis,
            [partition.stream],
            [mode, value, Date.now(), base, EPHEMERAL_GROUP_PREFIX, IDLE_CONSUMER_MS],
          );
          trimmed += Number(reply) || 0;
        }
      }
    } catch (error) {
      this.#logger?.warn('redis transport: trimming failed; will retry', { error });
    }
    return trimmed;
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

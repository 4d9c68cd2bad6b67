import type { Logger } from '@relaybus/core';
import type { RedisClient } from '../connection';
import type { KeySpace } from '../names';
import { MOVE_DUE_SCRIPT } from '../scripts';
import type { TopicLane } from './topic-lane';

const BATCH = 200;

/**
 * Moves due delayed messages (delayed publishes and nacks with a delay) of the topics a subscription owns
 * partitions of into their partition streams, with an atomic Lua script per topic. It runs every
 * `delayPollIntervalMs`, and exactly at the due times it knows of (its own nacks, and the next due time each run
 * reports), so delays this process knows about fire on time.
 */
export class DelayPoller {
  readonly #redis: RedisClient;
  readonly #keys: KeySpace;
  readonly #lanes: () => Iterable<TopicLane>;
  readonly #intervalMs: number;
  readonly #logger: Logger | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = 0;
  #running = false;
  #stopped = false;

  constructor(
    redis: RedisClient,
    keys: KeySpace,
    lanes: () => Iterable<TopicLane>,
    intervalMs: number,
    logger: Logger | undefined,
  ) {
    this.#redis = redis;
    this.#keys = keys;
    this.#lanes = lanes;
    this.#intervalMs = intervalMs;
    this.#logger = logger;
  }

  start(): void {
    this.#arm(Date.now() + this.#intervalMs);
  }

  /** Makes sure a run happens no later than `atMs`. */
  due(atMs: number): void {
    if (this.#stopped) return;
    if (this.#timer === undefined || atMs < this.#timerAt) this.#arm(atMs);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(atMs: number): void {
    if (this.#stopped) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timerAt = atMs;
    this.#timer = setTimeout(() => void this.#run(), Math.max(0, atMs - Date.now()));
  }

  async #run(): Promise<void> {
    this.#timer = undefined;
    if (this.#running || this.#stopped) return;
    this.#running = true;
    let next = Date.now() + this.#intervalMs;
    try {
      const runs = [...this.#lanes()]
        .filter((lane) => lane.live().length > 0)
        .map(async (lane) => {
          const reply = await MOVE_DUE_SCRIPT.run(
            this.#redis,
            [this.#keys.delayed(lane.topic), ...lane.streams],
            [Date.now(), BATCH],
          );
          const [moved, nextDue] = Array.isArray(reply) ? reply : [];
          if (Number(moved) >= BATCH) next = Date.now();
          const dueAt = Number(nextDue);
          if (dueAt >= 0 && dueAt < next) next = dueAt;
        });
      await Promise.all(runs);
    } catch (error) {
      this.#logger?.warn('redis transport: moving due delayed messages failed; retrying', { error });
    } finally {
      this.#running = false;
    }
    if (this.#timer === undefined || next < this.#timerAt) this.#arm(next);
  }
}

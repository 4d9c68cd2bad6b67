import type { ConsumerContext } from './consumer-context';
import { ensureGroups } from './group-setup';
import type { PartitionState } from './partition';
import { type LaneHost, TopicLane } from './topic-lane';

/**
 * The lanes of one subscription, one per topic: adding a topic joins the group on it (creating the group where
 * it is missing) and starts its heartbeat. Topics are added once, however often they are discovered.
 */
export class LaneSet {
  readonly #context: ConsumerContext;
  readonly #host: LaneHost;
  readonly #closing: () => boolean;
  readonly #lanes = new Map<string, TopicLane>();
  readonly #adding = new Map<string, Promise<void>>();

  constructor(context: ConsumerContext, host: LaneHost, closing: () => boolean) {
    this.#context = context;
    this.#host = host;
    this.#closing = closing;
  }

  get(topic: string): TopicLane | undefined {
    return this.#lanes.get(topic);
  }

  values(): IterableIterator<TopicLane> {
    return this.#lanes.values();
  }

  /** Whether `topic` has a lane or is getting one. */
  has(topic: string): boolean {
    return this.#lanes.has(topic) || this.#adding.has(topic);
  }

  /** Adds a lane for `topic`; a new group starts at `startId` (`$` after the last entry, `0` at the first). */
  async add(topic: string, startId: '$' | '0'): Promise<void> {
    if (this.#lanes.has(topic) || this.#closing()) return;
    let adding = this.#adding.get(topic);
    if (adding === undefined) {
      adding = this.#create(topic, startId).finally(() => this.#adding.delete(topic));
      this.#adding.set(topic, adding);
    }
    await adding;
  }

  /** Partitions being read now whose lease is proven for at least `minMs` more. */
  readable(now: number, minMs: number): PartitionState[] {
    const partitions: PartitionState[] = [];
    for (const lane of this.#lanes.values()) {
      if (lane.lease.remainingMs(now) < minMs) continue;
      for (const partition of lane.partitions.values()) {
        if (partition.status === 'reading') partitions.push(partition);
      }
    }
    return partitions;
  }

  /** Stops every heartbeat at once, without Redis; lanes being added stop as they finish. */
  stop(): void {
    for (const lane of this.#lanes.values()) lane.stop();
  }

  /** Resolves once no lane is being added. */
  async settled(): Promise<void> {
    await Promise.allSettled(this.#adding.values());
  }

  async #create(topic: string, startId: '$' | '0'): Promise<void> {
    const context = this.#context;
    const partitions = await context.registry.ensure(topic);
    const lane = new TopicLane(context, topic, partitions, this.#host);
    await lane.join();
    try {
      await ensureGroups(context, topic, partitions, startId);
    } catch (error) {
      // Leave at once rather than count as a live member, with a share of partitions, until the membership expires.
      await lane.leave().catch(() => undefined);
      throw error;
    }
    if (this.#closing()) {
      await lane.leave();
      return;
    }
    this.#lanes.set(topic, lane);
    await lane.start();
    this.#host.announce(topic);
  }
}

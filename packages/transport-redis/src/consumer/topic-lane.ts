import { LEASE_SCRIPT } from '../scripts';
import type { ConsumerContext } from './consumer-context';
import { PartitionState } from './partition';

/** What a lane tells its subscription about the partitions it gains, loses and gives up. */
export interface LaneHost {
  /** A partition was acquired: claim the previous owner's pending entries, then read it. */
  acquired(partition: PartitionState): void;
  /** A partition is no longer ours (lease lost): drop what was queued for it. */
  lost(partition: PartitionState): void;
  /** A partition is over our share: stop reading it; release it once idle. */
  draining(partition: PartitionState): void;
  /** Whether a draining partition can be released now. */
  releasable(partition: PartitionState): boolean;
  /** Tell the other members of the group that leases changed. */
  announce(topic: string): void;
  /** A heartbeat failed. */
  failed(error: unknown): void;
}

/**
 * One subscription's membership in its group for one topic: a heartbeat (every third of the lease TTL, and
 * whenever membership changes) that renews its partition leases, takes free or expired ones up to its share
 * (`ceil(partitions / live members)`), and releases extras once they are drained, all in one Lua script.
 */
export class TopicLane {
  readonly topic: string;
  readonly partitionCount: number;
  readonly streams: ReadonlyArray<string>;
  readonly partitions: Map<number, PartitionState> = new Map();
  /** Partitions this member should own, as of the last heartbeat. */
  target = 0;
  readonly #context: ConsumerContext;
  readonly #host: LaneHost;
  readonly #membersKey: string;
  readonly #leasesKey: string;
  #timer: ReturnType<typeof setInterval> | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = false;

  constructor(context: ConsumerContext, topic: string, partitionCount: number, host: LaneHost) {
    this.#context = context;
    this.#host = host;
    this.topic = topic;
    this.partitionCount = partitionCount;
    this.streams = context.keys.streams(topic, partitionCount);
    this.#membersKey = context.keys.members(topic, context.group);
    this.#leasesKey = context.keys.leases(topic, context.group);
  }

  /** Registers this member without taking partitions (so its group is known to be alive). */
  async join(): Promise<void> {
    await this.#run('join', []);
  }

  /** Starts the periodic heartbeat and runs the first one. */
  async start(): Promise<void> {
    const periodMs = Math.max(10, Math.floor(this.#context.options.leaseTtlMs / 3));
    this.#timer = setInterval(() => this.beat(), periodMs);
    await this.beat();
  }

  /** Runs a heartbeat now, or right after the one in progress. */
  beat(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    if (this.#running !== undefined) {
      this.#again = true;
      return this.#running;
    }
    this.#running = this.#beatLoop().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /** Live partitions: owned and not draining. */
  live(): PartitionState[] {
    return [...this.partitions.values()].filter((partition) => partition.live);
  }

  /** Stops heartbeats, releases every lease and leaves the group. */
  async leave(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    await this.#running?.catch(() => undefined);
    for (const partition of this.partitions.values()) partition.status = 'gone';
    this.partitions.clear();
    await this.#run('leave', []);
  }

  async #beatLoop(): Promise<void> {
    do {
      this.#again = false;
      try {
        await this.#beatOnce();
      } catch (error) {
        if (!this.#stopped) this.#host.failed(error);
      }
    } while (this.#again && !this.#stopped);
  }

  async #beatOnce(): Promise<void> {
    const releasing = [...this.partitions.values()].filter(
      (partition) => partition.status === 'draining' && this.#host.releasable(partition),
    );
    const reply = await this.#run(
      'beat',
      releasing.map((partition) => String(partition.index)),
    );
    if (this.#stopped) return;
    for (const partition of releasing) {
      partition.status = 'gone';
      this.partitions.delete(partition.index);
    }
    const owned = new Set<number>();
    for (let i = 2; i + 1 < reply.length; i += 2) owned.add(Number(reply[i]));
    this.target = Number(reply[0]);
    for (const [index, partition] of this.partitions) {
      if (owned.has(index)) continue;
      partition.status = 'gone';
      this.partitions.delete(index);
      this.#host.lost(partition);
    }
    for (const index of owned) {
      if (this.partitions.has(index)) continue;
      const partition = new PartitionState(this.topic, index, this.streams[index] ?? '');
      this.partitions.set(index, partition);
      this.#host.acquired(partition);
    }
    const live = this.live().sort((a, b) => b.index - a.index);
    for (const partition of live.slice(0, Math.max(0, live.length - this.target))) {
      partition.status = 'draining';
      this.#host.draining(partition);
    }
    if (releasing.length > 0) this.#host.announce(this.topic);
  }

  async #run(mode: 'join' | 'beat' | 'leave', release: ReadonlyArray<string>): Promise<unknown[]> {
    const { redis, member, options } = this.#context;
    const reply = await LEASE_SCRIPT.run(
      redis,
      [this.#membersKey, this.#leasesKey],
      [member, options.leaseTtlMs, this.partitionCount, mode, ...release],
    );
    return Array.isArray(reply) ? reply : [];
  }
}

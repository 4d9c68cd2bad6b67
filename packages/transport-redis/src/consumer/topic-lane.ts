import { IncompatibleClientError } from '../errors';
import { parseScriptArray } from '../replies';
import { LEASE_SCRIPT } from '../scripts';
import type { ConsumerContext } from './consumer-context';
import { HealthLog } from './health-log';
import { LeaseClock } from './lease-clock';
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
  /** The leases can no longer be proven: stop handing out (done by the dispatcher) and abort what is in flight. */
  fenced(lane: TopicLane): void;
  /** The leases were proven again after being fenced: hand out what waited. */
  resumed(lane: TopicLane): void;
  /** A reply was not recognised: the subscription cannot go on. */
  fatal(error: IncompatibleClientError): void;
}

/**
 * One subscription's membership in its group for one topic: a heartbeat (every third of the lease TTL, and
 * whenever membership changes) that renews its partition leases, takes free or expired ones up to its share
 * (`ceil(partitions / live members)`), and releases extras once they are drained, all in one Lua script.
 *
 * Each successful heartbeat renews the {@link LeaseClock} its partitions share; when the clock runs out before the
 * next one succeeds (Redis unreachable, or the read connection dropped), the lane is fenced: nothing of the topic is
 * handed out or read until a heartbeat proves the leases again, or tells which partitions passed to another member.
 */
export class TopicLane {
  readonly topic: string;
  readonly partitionCount: number;
  readonly streams: ReadonlyArray<string>;
  readonly partitions: Map<number, PartitionState> = new Map();
  /** The proof of this member's leases on the topic, shared by its partitions. */
  readonly lease: LeaseClock;
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
  #fenceTimer: ReturnType<typeof setTimeout> | undefined;
  /** Nothing is proven before the first heartbeat. */
  #fenced = true;
  /** When the lane was last fenced after having been proven (0: never, or proven since). */
  #fencedAt = 0;
  readonly #health: HealthLog;

  constructor(context: ConsumerContext, topic: string, partitionCount: number, host: LaneHost) {
    this.#context = context;
    this.#host = host;
    this.topic = topic;
    this.partitionCount = partitionCount;
    this.streams = context.keys.streams(topic, partitionCount);
    this.#membersKey = context.keys.members(topic, context.group);
    this.#leasesKey = context.keys.leases(topic, context.group);
    this.lease = new LeaseClock(context.options.leaseTtlMs);
    this.#health = new HealthLog(
      context.logger,
      `renewing the leases of group "${context.group}" on "${topic}"`,
    );
  }

  /** Registers this member without taking partitions (so its group is known to be alive). */
  async join(): Promise<void> {
    await this.#run('join', []);
  }

  /** Starts the periodic heartbeat and runs the first one. */
  async start(): Promise<void> {
    if (this.#stopped) return;
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

  /**
   * Withdraws the lease proof at once (the read connection dropped: Redis may have restarted and lost every lease);
   * the next heartbeat that succeeds proves them again.
   */
  withdraw(): void {
    this.lease.withdraw();
    this.#fence();
  }

  /** Stops heartbeats and fencing at once; no Redis call. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    clearTimeout(this.#fenceTimer);
  }

  /** Stops heartbeats, releases every lease and leaves the group. */
  async leave(): Promise<void> {
    this.stop();
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
        this.#health.succeeded();
      } catch (error) {
        if (!this.#stopped) this.#failed(error);
      }
    } while (this.#again && !this.#stopped);
  }

  async #beatOnce(): Promise<void> {
    const releasing = [...this.partitions.values()].filter(
      (partition) => partition.status === 'draining' && this.#host.releasable(partition),
    );
    const sentAt = Date.now();
    const epoch = this.lease.epoch;
    // Bounded: a heartbeat stuck on a dead connection must not keep the next one from being sent.
    const reply = await withinMs(
      this.#run(
        'beat',
        releasing.map((partition) => String(partition.index)),
      ),
      this.#context.options.leaseTtlMs,
    );
    if (this.#stopped) return;
    for (const partition of releasing) {
      partition.status = 'gone';
      this.partitions.delete(partition.index);
    }
    const owned = new Map<number, string>();
    for (let i = 2; i + 1 < reply.length; i += 2) owned.set(Number(reply[i]), String(reply[i + 1]));
    this.target = Number(reply[0]);
    for (const [index, partition] of this.partitions) {
      // Another token: the lease lapsed and was acquired anew, maybe after another member held it. Start over.
      if (owned.get(index) === partition.token) continue;
      partition.status = 'gone';
      this.partitions.delete(index);
      this.#host.lost(partition);
    }
    for (const [index, token] of owned) {
      if (this.partitions.has(index)) continue;
      const partition = new PartitionState(this.topic, index, this.streams[index] ?? '', this.lease, token);
      this.partitions.set(index, partition);
      this.#host.acquired(partition);
    }
    const live = this.live().sort((a, b) => b.index - a.index);
    for (const partition of live.slice(0, Math.max(0, live.length - this.target))) {
      partition.status = 'draining';
      this.#host.draining(partition);
    }
    if (releasing.length > 0) this.#host.announce(this.topic);
    if (this.lease.renew(sentAt, epoch)) this.#proven();
    else this.#again = true;
  }

  /** The leases are proven until the clock runs out: arm the fence for then, and resume if fenced. */
  #proven(): void {
    clearTimeout(this.#fenceTimer);
    // A heartbeat that took most of the TTL to answer proves too little to go on with.
    if (!this.lease.proven()) {
      this.#fence();
      return;
    }
    this.#fenceTimer = setTimeout(() => {
      if (!this.lease.proven()) this.#fence();
    }, this.lease.remainingMs() + 1);
    if (!this.#fenced) return;
    this.#fenced = false;
    if (this.#fencedAt > 0) {
      this.#context.logger?.info(
        `redis transport: leases of group "${this.#context.group}" on "${this.topic}" proven again after ${
          Date.now() - this.#fencedAt
        } ms; handing out again`,
      );
      this.#fencedAt = 0;
    }
    this.#host.resumed(this);
  }

  #fence(): void {
    clearTimeout(this.#fenceTimer);
    if (this.#fenced || this.#stopped) return;
    this.#fenced = true;
    this.#fencedAt = Date.now();
    this.#context.logger?.warn(
      `redis transport: the leases of group "${this.#context.group}" on "${this.topic}" can no longer be proven (Redis unreachable, or it restarted); handing out paused and deliveries in flight aborted until a heartbeat succeeds`,
    );
    this.#host.fenced(this);
  }

  #failed(error: unknown): void {
    if (error instanceof IncompatibleClientError) this.#host.fatal(error);
    else this.#health.failed(error);
  }

  async #run(mode: 'join' | 'beat' | 'leave', release: ReadonlyArray<string>): Promise<unknown[]> {
    const { redis, member, options } = this.#context;
    const reply = await LEASE_SCRIPT.run(
      redis,
      [this.#membersKey, this.#leasesKey],
      [member, options.leaseTtlMs, this.partitionCount, mode, ...release],
    );
    return parseScriptArray('lease', reply);
  }
}

/** `work`, or a rejection once `ms` have passed without it settling. */
function withinMs<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no reply from Redis within ${ms} ms`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

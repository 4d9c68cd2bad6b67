import type { Logger } from '@relaybus/core';
import { describeAddress, isCluster, isNoGroup, pause, type RedisClient } from '../connection';
import { IncompatibleClientError } from '../errors';
import { parseStreamRead } from '../replies';
import { HealthLog } from './health-log';
import type { PartitionState } from './partition';
import { ReadConnection } from './read-connection';

/** What the read loop needs from its subscription. */
export interface ReaderHost {
  /** Partitions to read new entries from: owned, and with a lease proven for long enough to read. */
  readable(now: number): PartitionState[];
  /** How many entries may be read now. */
  room(): number;
  /** The partition a stream key belongs to. */
  partitionOf(stream: string): PartitionState | undefined;
  /** Takes one entry read from `partition`. */
  ingest(partition: PartitionState, entryId: string, fields: unknown): void;
  /** An entry arrived for a stream no longer read (draining or lost): leave it for the next owner. */
  orphan(stream: string, entryId: string): void;
  /** A read finished (successfully or not). */
  readDone(): void;
  /** Redis says a consumer group is missing (deleted, or Redis lost its data): recreate them. */
  recreateGroups(partitions: ReadonlyArray<PartitionState>): Promise<void>;
  /** The read connection dropped: Redis may have restarted and lost every lease. */
  disconnected(): void;
  /** The read connection is up again. */
  reconnected(): void;
  /** A reply was not recognised: the subscription cannot go on. */
  fatal(error: IncompatibleClientError): void;
}

/** Settings of a read loop. */
export interface ReaderSettings {
  readonly group: string;
  readonly member: string;
  readonly blockMs: number;
  readonly logger: Logger | undefined;
}

const MAX_BACKOFF_MS = 2_000;
const MAX_IDLE_POLL_MS = 100;

/**
 * The read loop of one subscription, on its own duplicate connection: `XREADGROUP ... BLOCK` over every partition
 * it reads, as many entries as there is room for. On standalone Redis one command covers every topic, and a
 * change of partitions or close interrupts the block at once (`CLIENT UNBLOCK`). On a Cluster, streams of
 * different topics live in different slots: one topic blocks, several are polled concurrently with an idle back-off.
 *
 * A read blocks no longer than the leases of its partitions are proven, and its connection neither queues nor
 * resends commands, so no read can be served after a lease may have passed to another member. Errors (connection
 * loss, Redis restarting) are logged once, retried with back-off, and the recovery is logged; the loop only stops
 * for a reply it does not recognise, which it reports to its subscription.
 */
export class Reader {
  readonly #connection: ReadConnection;
  readonly #host: ReaderHost;
  readonly #settings: ReaderSettings;
  readonly #current = new Set<PartitionState>();
  readonly #stopper = new AbortController();
  /** Ends the current idle wait early; set only while the loop waits. */
  #wakeUp: (() => void) | undefined;
  #blocked = false;
  #done: Promise<void> | undefined;
  readonly #health: HealthLog;

  constructor(redis: RedisClient, host: ReaderHost, settings: ReaderSettings) {
    this.#host = host;
    this.#settings = settings;
    this.#health = new HealthLog(settings.logger, `reading from Redis at ${describeAddress(redis)}`);
    const events = {
      closed: () => {
        if (!this.#stopper.signal.aborted) this.#host.disconnected();
      },
      ready: () => {
        this.#host.reconnected();
        this.nudge();
      },
    };
    this.#connection = new ReadConnection(redis, events, settings.logger);
  }

  /** The read connection, for waiting until it is ready. */
  get connection(): RedisClient {
    return this.#connection.client;
  }

  start(): void {
    this.#done ??= this.#loop();
  }

  /**
   * Reads nothing: checks that the client answers `XREADGROUP` in a shape the transport knows, on a stream where
   * the group exists (this consumer's own history there, empty or not).
   *
   * @throws {@link IncompatibleClientError} when it does not.
   */
  async probe(stream: string): Promise<void> {
    const { group, member } = this.#settings;
    const reply = await this.#connection.call('XREADGROUP', [
      'GROUP',
      group,
      member,
      'COUNT',
      1,
      'STREAMS',
      stream,
      '0',
    ]);
    const streams = parseStreamRead(reply);
    if (streams.length !== 1 || streams[0]?.stream !== stream) {
      throw new IncompatibleClientError(
        'XREADGROUP',
        `the reply to XREADGROUP on ${stream} did not name that stream (got ${JSON.stringify(reply)})`,
      );
    }
  }

  /** Whether `partition` is part of the read in progress. */
  reading(partition: PartitionState): boolean {
    return this.#current.has(partition);
  }

  /** Makes the loop look at its partitions and room again, interrupting a blocked read. */
  wake(): void {
    this.nudge();
    if (this.#blocked) this.#connection.interrupt();
  }

  /** Makes an idle loop (waiting for room or partitions) look again, without interrupting a blocked read. */
  nudge(): void {
    const wakeUp = this.#wakeUp;
    this.#wakeUp = undefined;
    wakeUp?.();
  }

  /** Stops the loop and closes its connection. */
  async stop(): Promise<void> {
    this.#stopper.abort();
    this.wake();
    const done = this.#done ?? Promise.resolve();
    const finished = await Promise.race([done.then(() => true), pause(200).then(() => false)]);
    this.#connection.disconnect();
    if (!finished) await done;
  }

  async #loop(): Promise<void> {
    let backoffMs = 0;
    let idleMs = 0;
    const stopped = this.#stopper.signal;
    while (!stopped.aborted) {
      const now = Date.now();
      const partitions = this.#host.readable(now);
      const room = this.#host.room();
      if (partitions.length === 0 || room <= 0 || !this.#connection.ready) {
        // Nudged when partitions, room or the connection change; the timeout is the safety net.
        await this.#idle(this.#settings.blockMs);
        continue;
      }
      const leaseMs = Math.min(...partitions.map((partition) => partition.lease.remainingMs(now)));
      const blockMs = Math.max(1, Math.floor(Math.min(this.#settings.blockMs, leaseMs)));
      for (const partition of partitions) this.#current.add(partition);
      try {
        const received = await this.#read(partitions, room, blockMs);
        this.#health.succeeded();
        backoffMs = 0;
        idleMs = received || !this.#polling(partitions) ? 0 : Math.min(MAX_IDLE_POLL_MS, idleMs * 2 || 2);
      } catch (error) {
        if (stopped.aborted) break;
        if (error instanceof IncompatibleClientError) {
          this.#host.fatal(error);
          break;
        }
        if (isNoGroup(error)) {
          await this.#host.recreateGroups(partitions).catch(() => undefined);
        } else {
          this.#health.failed(error);
        }
        backoffMs = Math.min(MAX_BACKOFF_MS, Math.max(50, backoffMs * 2));
        await pause(backoffMs, stopped);
      } finally {
        this.#current.clear();
        this.#host.readDone();
      }
      if (idleMs > 0) await this.#idle(idleMs);
    }
  }

  /** Waits `ms`, or until nudged or stopped. Cheaper than an AbortSignal, which allocates on every abort. */
  #idle(ms: number): Promise<void> {
    if (this.#stopper.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wakeUp = undefined;
        resolve();
      }, ms);
      this.#wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** Whether this read is a poll (a Cluster read over several slots) rather than a blocking read. */
  #polling(partitions: ReadonlyArray<PartitionState>): boolean {
    if (!isCluster(this.#connection.client)) return false;
    const first = partitions[0]?.topic;
    return partitions.some((partition) => partition.topic !== first);
  }

  async #read(partitions: ReadonlyArray<PartitionState>, room: number, blockMs: number): Promise<boolean> {
    if (!this.#polling(partitions)) return this.#readGroup(partitions, room, blockMs);
    const byTopic = new Map<string, PartitionState[]>();
    for (const partition of partitions) {
      const list = byTopic.get(partition.topic);
      if (list === undefined) byTopic.set(partition.topic, [partition]);
      else list.push(partition);
    }
    const share = Math.max(1, Math.ceil(room / byTopic.size));
    const results = await Promise.all(
      [...byTopic.values()].map((list) => this.#readGroup(list, share, undefined)),
    );
    return results.some(Boolean);
  }

  /** One `XREADGROUP` over `partitions`; blocking for `blockMs` when given. Resolves whether anything came. */
  async #readGroup(
    partitions: ReadonlyArray<PartitionState>,
    count: number,
    blockMs: number | undefined,
  ): Promise<boolean> {
    const { group, member } = this.#settings;
    const args: Array<string | number> = ['GROUP', group, member, 'COUNT', count];
    if (blockMs !== undefined) args.push('BLOCK', blockMs);
    args.push('STREAMS');
    for (const partition of partitions) args.push(partition.stream);
    for (let i = 0; i < partitions.length; i++) args.push('>');
    this.#blocked = blockMs !== undefined;
    let reply: unknown;
    try {
      reply = await this.#connection.call('XREADGROUP', args);
    } finally {
      this.#blocked = false;
    }
    let received = false;
    for (const { stream, entries } of parseStreamRead(reply)) {
      const partition = this.#host.partitionOf(stream);
      for (const entry of entries) {
        received = true;
        if (partition?.live === true) this.#host.ingest(partition, entry.id, entry.fields);
        else this.#host.orphan(stream, entry.id);
      }
    }
    return received;
  }
}

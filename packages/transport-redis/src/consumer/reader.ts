import type { Logger } from '@relaybus/core';
import type { Redis } from 'ioredis';
import { isCluster, pause, type RedisClient } from '../connection';
import type { PartitionState } from './partition';

/** What the read loop needs from its subscription. */
export interface ReaderHost {
  /** Partitions to read new entries from. */
  readable(): PartitionState[];
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
 * Errors (connection loss, Redis restarting) are logged and retried with back-off; the loop never dies.
 */
export class Reader {
  readonly #redis: RedisClient;
  readonly #connection: RedisClient;
  readonly #host: ReaderHost;
  readonly #settings: ReaderSettings;
  readonly #current = new Set<PartitionState>();
  readonly #stopper = new AbortController();
  /** Ends the current idle wait early; set only while the loop waits. */
  #wakeUp: (() => void) | undefined;
  /** Client id of each connection this reader blocks on, by node address (`''` on standalone Redis). */
  readonly #clientIds = new Map<string, string>();
  #blocked = false;
  #done: Promise<void> | undefined;

  constructor(redis: RedisClient, host: ReaderHost, settings: ReaderSettings) {
    this.#redis = redis;
    this.#host = host;
    this.#settings = settings;
    this.#connection = redis.duplicate();
    this.#connection.on('error', (error: unknown) => {
      settings.logger?.debug('redis transport read connection error', { error });
    });
    this.#trackClientIds(this.#connection);
  }

  start(): void {
    this.#done ??= this.#loop();
  }

  /** Whether `partition` is part of the read in progress. */
  reading(partition: PartitionState): boolean {
    return this.#current.has(partition);
  }

  /** Makes the loop look at its partitions and room again, interrupting a blocked read. */
  wake(): void {
    this.nudge();
    this.#interrupt();
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
      const partitions = this.#host.readable();
      const room = this.#host.room();
      if (partitions.length === 0 || room <= 0) {
        await this.#idle(this.#settings.blockMs);
        continue;
      }
      for (const partition of partitions) this.#current.add(partition);
      try {
        const received = await this.#read(partitions, room);
        backoffMs = 0;
        idleMs = received || !this.#polling(partitions) ? 0 : Math.min(MAX_IDLE_POLL_MS, idleMs * 2 || 2);
      } catch (error) {
        if (stopped.aborted) break;
        if (error instanceof Error && error.message.startsWith('NOGROUP')) {
          await this.#host.recreateGroups(partitions).catch(() => undefined);
        } else {
          this.#settings.logger?.warn('redis transport read failed; retrying', { error });
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
    if (!isCluster(this.#connection)) return false;
    const first = partitions[0]?.topic;
    return partitions.some((partition) => partition.topic !== first);
  }

  async #read(partitions: ReadonlyArray<PartitionState>, room: number): Promise<boolean> {
    if (!this.#polling(partitions)) return this.#readGroup(partitions, room, true);
    const byTopic = new Map<string, PartitionState[]>();
    for (const partition of partitions) {
      const list = byTopic.get(partition.topic);
      if (list === undefined) byTopic.set(partition.topic, [partition]);
      else list.push(partition);
    }
    const share = Math.max(1, Math.ceil(room / byTopic.size));
    const results = await Promise.all(
      [...byTopic.values()].map((list) => this.#readGroup(list, share, false)),
    );
    return results.some(Boolean);
  }

  async #readGroup(
    partitions: ReadonlyArray<PartitionState>,
    count: number,
    block: boolean,
  ): Promise<boolean> {
    const { group, member, blockMs } = this.#settings;
    const args: Array<string | number> = ['GROUP', group, member, 'COUNT', count];
    if (block) args.push('BLOCK', blockMs);
    args.push('STREAMS');
    for (const partition of partitions) args.push(partition.stream);
    for (let i = 0; i < partitions.length; i++) args.push('>');
    this.#blocked = block;
    let reply: unknown;
    try {
      reply = await this.#connection.call('XREADGROUP', ...args);
    } finally {
      this.#blocked = false;
    }
    if (!Array.isArray(reply)) return false;
    let received = false;
    for (const stream of reply) {
      if (!Array.isArray(stream)) continue;
      const [key, entries] = stream as [unknown, unknown];
      if (typeof key !== 'string' || !Array.isArray(entries)) continue;
      const partition = this.#host.partitionOf(key);
      for (const entry of entries) {
        if (!Array.isArray(entry) || typeof entry[0] !== 'string') continue;
        received = true;
        if (partition?.live === true) this.#host.ingest(partition, entry[0], entry[1]);
        else this.#host.orphan(key, entry[0]);
      }
    }
    return received;
  }

  #interrupt(): void {
    if (!this.#blocked) return;
    const redis = this.#redis;
    if (!isCluster(redis)) {
      const id = this.#clientIds.get('');
      if (id !== undefined) redis.call('CLIENT', 'UNBLOCK', id).catch(() => undefined);
      return;
    }
    for (const node of redis.nodes('master')) {
      const id = this.#clientIds.get(nodeAddress(node));
      if (id !== undefined) node.call('CLIENT', 'UNBLOCK', id).catch(() => undefined);
    }
  }

  /** Learns the client id of every connection a blocking read may sit on, so a block can be interrupted. */
  #trackClientIds(connection: RedisClient): void {
    const track = (node: Redis, address: string): void => {
      const fetch = (): void => {
        node.client('ID').then(
          (id) => this.#clientIds.set(address, String(id)),
          () => undefined,
        );
      };
      node.on('ready', fetch);
      if (node.status === 'ready') fetch();
    };
    if (isCluster(connection)) {
      connection.on('+node', (node: Redis) => track(node, nodeAddress(node)));
    } else {
      track(connection, '');
    }
  }
}

function nodeAddress(node: Redis): string {
  return `${node.options.host ?? ''}:${node.options.port ?? ''}`;
}

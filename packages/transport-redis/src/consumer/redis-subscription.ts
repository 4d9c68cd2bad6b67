import { type Delivery, TransportError, type TransportSubscription } from '@relaybus/core';
import { whenReady } from '../connection';
import type { ControlChannel } from '../control-channel';
import { IncompatibleClientError } from '../errors';
import { reportIncompatible } from '../report-incompatible';
import type { SubscriptionSpec } from '../subscribe-options';
import { closeParts } from './close-parts';
import type { ConsumerContext } from './consumer-context';
import { DelayPoller } from './delay-poller';
import { Dispatcher, type DispatchHost } from './dispatcher';
import { ensureGroups } from './group-setup';
import { ingestEntry, invokeHandler } from './ingest';
import { LaneSet } from './lane-set';
import type { PartitionState } from './partition';
import { Reader, type ReaderHost } from './reader';
import type { RedisDelivery } from './redis-delivery';
import { Trimmer } from './retention';
import { RedisSettler } from './settler';
import { reclaimStale, Takeovers } from './takeover';
import type { LaneHost, TopicLane } from './topic-lane';
import { TopicWatcher } from './topic-watcher';

/** A partition is read only while its lease is proven for at least this long (the shortest block worth a read). */
const MIN_READ_MS = 20;

/**
 * One live subscription: a lane (membership + partition leases) per topic, a read loop, a dispatcher that keeps
 * per-key order, a delay poller, a trimmer and a stale-entry sweeper. Pattern subscriptions add lanes for topics
 * announced on the control channel or found by polling the registry.
 */
export class RedisSubscription implements TransportSubscription, DispatchHost, ReaderHost, LaneHost {
  readonly #context: ConsumerContext;
  readonly #spec: SubscriptionSpec;
  readonly #handler: (delivery: Delivery) => void | Promise<void>;
  readonly #onClosed: (subscription: RedisSubscription) => void;
  readonly #lanes: LaneSet;
  readonly #streams = new Map<string, PartitionState>();
  readonly #settler: RedisSettler;
  readonly #dispatcher: Dispatcher;
  readonly #reader: Reader;
  readonly #poller: DelayPoller;
  readonly #trimmer: Trimmer | undefined;
  readonly #watcher: TopicWatcher;
  readonly #timers = new Set<ReturnType<typeof setInterval>>();
  readonly #takeovers: Takeovers;
  #closing: Promise<void> | undefined;

  constructor(
    context: ConsumerContext,
    spec: SubscriptionSpec,
    handler: (delivery: Delivery) => void | Promise<void>,
    control: ControlChannel,
    onClosed: (subscription: RedisSubscription) => void,
  ) {
    this.#context = context;
    this.#spec = spec;
    this.#handler = handler;
    this.#onClosed = onClosed;
    const { options, redis, keys, logger } = context;
    this.#lanes = new LaneSet(context, this, () => this.#closing !== undefined);
    const lanes = (): Iterable<TopicLane> => this.#lanes.values();
    this.#poller = new DelayPoller(redis, keys, lanes, options.delayPollIntervalMs, logger);
    this.#settler = new RedisSettler(context, (atMs) => this.#poller.due(atMs));
    this.#dispatcher = new Dispatcher(this, this.#settler, {
      concurrency: spec.concurrency,
      prefetch: Math.max(options.prefetch, spec.concurrency),
      visibilityTimeoutMs: spec.visibilityTimeoutMs,
    });
    this.#settler.attach(this.#dispatcher);
    this.#takeovers = new Takeovers(context, this.#dispatcher, (...entry) => this.ingest(...entry), {
      done: () => this.#reader.wake(),
      recreate: (partition) => this.recreateGroups([partition]),
      fatal: (error) => this.fatal(error),
    });
    this.#reader = new Reader(redis, this, {
      group: context.group,
      member: context.member,
      blockMs: options.blockMs,
      logger,
    });
    this.#watcher = new TopicWatcher(
      context.registry,
      control,
      spec.match,
      {
        discovered: (topic) => this.#discovered(topic),
        rebalance: (topic, group) => {
          if (group === context.namedGroup) void this.#lanes.get(topic)?.beat();
        },
      },
      logger,
    );
    this.#trimmer =
      options.retention === false
        ? undefined
        : new Trimmer(redis, keys, options.retention, options.trimIntervalMs, lanes, logger);
  }

  /**
   * Joins the group on every topic, takes a share of partitions and starts reading once the read connection is up
   * and answers in a shape the transport knows.
   *
   * @throws `RedisUnavailableError` when the read connection is not ready within `connectTimeoutMs`, or
   * `IncompatibleClientError` when the client's replies are not recognised.
   */
  async start(): Promise<void> {
    const { namedGroup, options } = this.#context;
    const { pattern, startFrom } = this.#spec;
    // A named group keeps what its members subscribed to also while none runs: topics of its pattern that appear
    // later get the group when they are registered, as for a declared group.
    if (namedGroup !== undefined && pattern !== undefined) {
      await this.#context.registry.declarePattern(namedGroup, pattern);
    }
    const topics = new Set(this.#spec.topics);
    for (const topic of await this.#watcher.start(namedGroup !== undefined, options.topicRefreshIntervalMs)) {
      topics.add(topic);
    }
    const startId = namedGroup !== undefined && startFrom === 'earliest' ? '0' : '$';
    await Promise.all([...topics].map((topic) => this.#lanes.add(topic, startId)));
    await whenReady(this.#reader.connection, options.connectTimeoutMs);
    const [first] = this.#lanes.values();
    if (first?.streams[0] !== undefined) await this.#reader.probe(first.streams[0]);
    // Subscribing resolves once the first partitions are read from, so the first reads cover all of them.
    await this.#takeovers.settled();
    const staleMs = Math.max(250, Math.min(this.#spec.visibilityTimeoutMs, 10_000));
    this.#timers.add(setInterval(() => void this.#reclaimStale(), staleMs));
    this.#reader.start();
    this.#poller.start();
  }

  close(options?: { readonly timeoutMs?: number }): Promise<void> {
    this.#closing ??= this.#shutdown(options?.timeoutMs ?? 10_000);
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // DispatchHost

  handle(delivery: RedisDelivery): void {
    invokeHandler(this.#handler, delivery, this.#context.options.onError);
  }

  expired(delivery: RedisDelivery): void {
    this.#settler.expire(delivery, this.#spec.visibilityTimeoutMs);
  }

  changed(): void {
    this.#reader.nudge();
    this.readDone();
  }

  // ReaderHost

  readable(now: number): PartitionState[] {
    return this.#lanes.readable(now, MIN_READ_MS);
  }

  room(): number {
    return this.#closing === undefined ? this.#dispatcher.room() : 0;
  }

  partitionOf(stream: string): PartitionState | undefined {
    return this.#streams.get(stream);
  }

  ingest(partition: PartitionState, entryId: string, fields: unknown, deliveries = 0): void {
    // Already queued or in flight: a takeover after an outage and a late read reply may both bring it.
    if (partition.entries.has(entryId)) return;
    ingestEntry(this.#context, this.#settler, this.#dispatcher, { partition, entryId, fields, deliveries });
  }

  orphan(stream: string, entryId: string): void {
    void this.#settler.giveBack([{ stream, entryId, count: 0 }]);
  }

  readDone(): void {
    for (const lane of this.#lanes.values()) {
      for (const partition of lane.partitions.values()) {
        if (partition.status === 'draining' && this.releasable(partition)) {
          void lane.beat();
          break;
        }
      }
    }
  }

  async recreateGroups(partitions: ReadonlyArray<PartitionState>): Promise<void> {
    const startId = this.#context.namedGroup === undefined ? '$' : '0';
    for (const topic of new Set(partitions.map((partition) => partition.topic))) {
      const lane = this.#lanes.get(topic);
      if (lane !== undefined) await ensureGroups(this.#context, topic, lane.partitionCount, startId);
    }
  }

  disconnected(): void {
    for (const lane of this.#lanes.values()) lane.withdraw();
  }

  reconnected(): void {
    for (const lane of this.#lanes.values()) void lane.beat();
  }

  /** Reports a client whose replies cannot be read, at error level and to `onError`, and closes. */
  fatal(error: IncompatibleClientError): void {
    if (this.#closing !== undefined) return;
    const { logger, options } = this.#context;
    reportIncompatible({ logger, onError: options.onError }, error, 'the subscription stops');
    void this.close({ timeoutMs: 0 });
  }

  // LaneHost

  acquired(partition: PartitionState): void {
    this.#streams.set(partition.stream, partition);
    this.#takeovers.start(partition);
  }

  lost(partition: PartitionState): void {
    this.#settler.giveBackItems(this.#dispatcher.drop((p) => p === partition));
    this.#dispatcher.abort((p) => p === partition, leaseLost(partition.topic));
    this.#streams.delete(partition.stream);
  }

  draining(partition: PartitionState): void {
    this.#settler.giveBackItems(this.#dispatcher.drop((p) => p === partition));
    this.#reader.wake();
  }

  releasable(partition: PartitionState): boolean {
    return partition.idle && !this.#reader.reading(partition);
  }

  announce(topic: string): void {
    const group = this.#context.namedGroup;
    if (group !== undefined) void this.#context.registry.announce({ kind: 'rebalance', topic, group });
  }

  fenced(lane: TopicLane): void {
    this.#dispatcher.abort((partition) => partition.topic === lane.topic, leaseLost(lane.topic));
  }

  resumed(lane: TopicLane): void {
    for (const partition of lane.partitions.values()) {
      // Collect what a read lost in the outage left pending here before reading on (see takeOver).
      if (partition.status === 'reading') {
        partition.status = 'takeover';
        this.#takeovers.start(partition);
      }
      this.#dispatcher.resume(partition);
    }
    this.#reader.wake();
  }

  #discovered(topic: string): void {
    if (this.#lanes.has(topic)) return;
    this.#lanes.add(topic, '0').catch((error: unknown) => {
      this.#context.logger?.warn(`redis transport: subscribing to new topic "${topic}" failed`, { error });
    });
  }

  async #reclaimStale(): Promise<void> {
    const ingest = this.ingest.bind(this);
    try {
      for (const partition of this.readable(Date.now())) {
        await reclaimStale(this.#context, partition, this.#spec.visibilityTimeoutMs, ingest);
      }
    } catch (error) {
      if (isIncompatible(error)) this.fatal(error);
      else this.#context.logger?.debug('redis transport: reclaiming stale entries failed', { error });
    }
  }

  async #shutdown(timeoutMs: number): Promise<void> {
    this.#watcher.stop();
    this.#takeovers.stop();
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers.clear();
    this.#poller.stop();
    this.#trimmer?.stop();
    await closeParts(
      {
        context: this.#context,
        dispatcher: this.#dispatcher,
        settler: this.#settler,
        reader: this.#reader,
        lanes: this.#lanes,
      },
      timeoutMs,
    );
    this.#onClosed(this);
  }
}

function isIncompatible(error: unknown): error is IncompatibleClientError {
  return error instanceof IncompatibleClientError;
}

function leaseLost(topic: string): TransportError {
  return new TransportError(
    'redis',
    `the lease on a partition of "${topic}" could not be renewed or passed to another member; the delivery may be handed to that member, so stop and leave it unsettled`,
  );
}

import { type Delivery, TransportError, type TransportSubscription } from '@relaybus/core';
import type { ControlChannel } from '../control-channel';
import type { SubscriptionSpec } from '../subscribe-options';
import type { ConsumerContext } from './consumer-context';
import { DelayPoller } from './delay-poller';
import { Dispatcher, type DispatchHost } from './dispatcher';
import { destroyGroups, ensureGroups } from './group-setup';
import { ingestEntry, invokeHandler } from './ingest';
import type { PartitionState } from './partition';
import { Reader, type ReaderHost } from './reader';
import type { RedisDelivery } from './redis-delivery';
import { Trimmer } from './retention';
import { RedisSettler } from './settler';
import { reclaimStale, takeOver } from './takeover';
import { type LaneHost, TopicLane } from './topic-lane';
import { TopicWatcher } from './topic-watcher';

const DROP = { kind: 'drop' } as const;

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
  readonly #lanes = new Map<string, TopicLane>();
  readonly #adding = new Map<string, Promise<void>>();
  readonly #streams = new Map<string, PartitionState>();
  readonly #settler: RedisSettler;
  readonly #dispatcher: Dispatcher;
  readonly #reader: Reader;
  readonly #poller: DelayPoller;
  readonly #trimmer: Trimmer | undefined;
  readonly #watcher: TopicWatcher;
  readonly #timers: Array<ReturnType<typeof setInterval>> = [];
  readonly #takeovers = new Set<Promise<void>>();
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
    const lanes = (): Iterable<TopicLane> => this.#lanes.values();
    this.#poller = new DelayPoller(redis, keys, lanes, options.delayPollIntervalMs, logger);
    this.#settler = new RedisSettler(context, (atMs) => this.#poller.due(atMs));
    this.#dispatcher = new Dispatcher(this, this.#settler, {
      concurrency: spec.concurrency,
      prefetch: Math.max(options.prefetch, spec.concurrency),
      visibilityTimeoutMs: spec.visibilityTimeoutMs,
    });
    this.#settler.attach(this.#dispatcher);
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

  /** Joins the group on every topic, takes a share of partitions and starts reading. */
  async start(): Promise<void> {
    const { namedGroup, options } = this.#context;
    const topics = new Set(this.#spec.topics);
    for (const topic of await this.#watcher.start(namedGroup !== undefined, options.topicRefreshIntervalMs)) {
      topics.add(topic);
    }
    await Promise.all([...topics].map((topic) => this.#addTopic(topic, '$')));
    // Subscribing resolves once the first partitions are read from, so the first reads cover all of them.
    await Promise.all([...this.#takeovers]);
    const staleMs = Math.max(250, Math.min(this.#spec.visibilityTimeoutMs, 10_000));
    this.#timers.push(setInterval(() => void this.#reclaimStale(), staleMs));
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

  readable(): PartitionState[] {
    const partitions: PartitionState[] = [];
    for (const lane of this.#lanes.values()) {
      for (const partition of lane.partitions.values()) {
        if (partition.status === 'reading') partitions.push(partition);
      }
    }
    return partitions;
  }

  room(): number {
    return this.#closing === undefined ? this.#dispatcher.room() : 0;
  }

  partitionOf(stream: string): PartitionState | undefined {
    return this.#streams.get(stream);
  }

  ingest(partition: PartitionState, entryId: string, fields: unknown, deliveries = 0): void {
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

  // LaneHost

  acquired(partition: PartitionState): void {
    this.#streams.set(partition.stream, partition);
    const run = (): Promise<void> =>
      takeOver(this.#context, partition, this.#dispatcher, (p, id, fields, deliveries) =>
        this.ingest(p, id, fields, deliveries),
      ).then(
        () => this.#reader.wake(),
        (error: unknown) => {
          this.#context.logger?.warn('redis transport: taking over a partition failed; retrying', { error });
          if (partition.status === 'takeover' && this.#closing === undefined) {
            setTimeout(() => void run(), 500);
          }
        },
      );
    const started = run();
    this.#takeovers.add(started);
    void started.finally(() => this.#takeovers.delete(started));
  }

  lost(partition: PartitionState): void {
    this.#settler.giveBackItems(this.#dispatcher.drop((p) => p === partition));
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

  failed(error: unknown): void {
    this.#context.logger?.warn('redis transport: lease heartbeat failed; retrying', { error });
  }

  async #addTopic(topic: string, startId: '$' | '0'): Promise<void> {
    if (this.#lanes.has(topic) || this.#closing !== undefined) return;
    let adding = this.#adding.get(topic);
    if (adding === undefined) {
      adding = this.#createLane(topic, startId).finally(() => this.#adding.delete(topic));
      this.#adding.set(topic, adding);
    }
    await adding;
  }

  async #createLane(topic: string, startId: '$' | '0'): Promise<void> {
    const context = this.#context;
    const partitions = await context.registry.ensure(topic);
    const lane = new TopicLane(context, topic, partitions, this);
    await lane.join();
    await ensureGroups(context, topic, partitions, startId);
    if (this.#closing !== undefined) {
      await lane.leave();
      return;
    }
    this.#lanes.set(topic, lane);
    await lane.start();
    this.announce(topic);
  }

  #discovered(topic: string): void {
    if (this.#lanes.has(topic) || this.#adding.has(topic)) return;
    this.#addTopic(topic, '0').catch((error: unknown) => {
      this.#context.logger?.warn(`redis transport: subscribing to new topic "${topic}" failed`, { error });
    });
  }

  async #reclaimStale(): Promise<void> {
    const ingest = this.ingest.bind(this);
    try {
      for (const partition of this.readable()) {
        await reclaimStale(this.#context, partition, this.#spec.visibilityTimeoutMs, ingest);
      }
    } catch (error) {
      this.#context.logger?.debug('redis transport: reclaiming stale entries failed', { error });
    }
  }

  async #shutdown(timeoutMs: number): Promise<void> {
    const { logger } = this.#context;
    const deadline = Date.now() + timeoutMs;
    this.#watcher.stop();
    for (const timer of this.#timers) clearInterval(timer);
    this.#dispatcher.closing = true;
    this.#poller.stop();
    this.#trimmer?.stop();
    const readerStopped = this.#reader.stop();
    if (!(await this.#dispatcher.whenIdle(timeoutMs))) {
      const left = [...this.#dispatcher.inflight];
      const reason = new TransportError(
        'redis',
        `a subscription closed with ${left.length} unsettled deliveries after waiting ${timeoutMs} ms; they are left for redelivery`,
      );
      for (const delivery of left) {
        delivery.inFlight = false;
        delivery.abort(reason);
        this.#dispatcher.finish(delivery, DROP);
      }
    }
    // Acks, lease releases and group cleanup need Redis: bound them, so close() cannot hang while it is down.
    const cleanupMs = Math.max(1_000, deadline - Date.now());
    const cleanedUp = await settlesWithin(this.#releaseAll(readerStopped), cleanupMs);
    if (!cleanedUp) {
      logger?.warn(
        `redis transport: Redis did not answer within ${cleanupMs} ms while closing; unacked deliveries stay pending and leases expire on their own`,
      );
    }
    this.#onClosed(this);
  }

  async #releaseAll(readerStopped: Promise<void>): Promise<void> {
    const { logger } = this.#context;
    await readerStopped;
    this.#dispatcher.stop();
    await Promise.allSettled(this.#adding.values());
    this.#settler.giveBackItems(this.#dispatcher.drop(() => true));
    await this.#settler.flush();
    await Promise.all(
      [...this.#lanes.values()].map(async (lane) => {
        try {
          await lane.leave();
          if (this.#context.namedGroup === undefined) {
            await destroyGroups(this.#context, lane.topic, lane.partitionCount);
          } else {
            await this.#context.registry.announce({
              kind: 'rebalance',
              topic: lane.topic,
              group: this.#context.namedGroup,
            });
          }
        } catch (error) {
          logger?.warn('redis transport: releasing leases on close failed; they expire on their own', {
            error,
          });
        }
      }),
    );
  }
}

function settlesWithin(work: Promise<void>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const done = work.then(
    () => true,
    () => true,
  );
  return Promise.race([done, late]).finally(() => clearTimeout(timer));
}

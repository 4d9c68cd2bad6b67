import { ClosedError, InvalidOptionError } from '../errors';
import type { JobBackend } from '../jobs/backend';
import { memoryJobBackend } from '../jobs/memory/memory-job-backend';
import { Closer } from '../transport-kit/closer';
import { checkPublishBatch } from '../transport-kit/publish-batch';
import { SubscriptionHandle } from '../transport-kit/subscription-handle';
import { ConsumerQueue, type QueueHost } from './memory/consumer-queue';
import { type DeadLetterHost, type DeadLetterRecord, MemoryDeadLetters } from './memory/dead-letters';
import { DelayScheduler } from './memory/delay-scheduler';
import { MemoryDelivery } from './memory/delivery';
import { LeaseSweeper } from './memory/lease-sweeper';
import { Member } from './memory/member';
import {
  DEFAULTS,
  type MemoryTransportOptions,
  type ResolvedOptions,
  resolveOptions,
  resolveSubscribeOptions,
} from './memory/options';
import { resolveGroupDeclaration } from './subscribe-options';
import type {
  DeadLetterInput,
  Delivery,
  GroupDeclaration,
  Transport,
  TransportCapabilities,
  TransportMessage,
  TransportSubscribeOptions,
  TransportSubscription,
} from './transport';

export type { MemoryTransportOptions } from './memory/options';

const CAPABILITIES: TransportCapabilities = Object.freeze({
  durable: false,
  groups: true,
  delay: true,
  orderedByKey: true,
});
const RESOLVED: Promise<void> = Promise.resolve();
/** Deliveries one queue hands out per turn before yielding to I/O (synchronous handlers never await). */
const DRAIN_BUDGET = 4096;
const TOPIC_CACHE_LIMIT = 10_000;

/**
 * Creates the in-process transport: consumer groups, per-key ordering, delays, visibility timeouts and a
 * dead-letter list, with the same semantics as the Redis transport but nothing survives the process.
 *
 * It keeps no history: a message published while no group and no subscriber wants its topic is gone, so a new group
 * starts empty whatever its `startFrom` says. Declare groups (`declareGroup`) before publishing when a member may
 * subscribe later.
 *
 * @throws {@link InvalidOptionError} when an option is out of range, naming it.
 * @example
 * ```ts
 * const transport = memoryTransport();
 * const subscription = await transport.subscribe({ topics: ['task.created'], group: 'mailer' }, (delivery) => {
 *   console.log(delivery.message.body);
 *   delivery.ack();
 * });
 * await transport.publish([{ id: '1', topic: 'task.created', body: { taskId: 't1' } }]);
 * await subscription.close();
 * ```
 */
export function memoryTransport(options: MemoryTransportOptions = {}): Transport {
  return new MemoryTransport(resolveOptions(options));
}

class MemoryTransport implements Transport, QueueHost, DeadLetterHost {
  readonly name = 'memory';
  readonly capabilities: TransportCapabilities = CAPABILITIES;
  readonly deadLetters: MemoryDeadLetters = new MemoryDeadLetters(this);
  readonly highWaterMark: number;
  readonly leases: LeaseSweeper = new LeaseSweeper();
  private readonly options: ResolvedOptions;
  private readonly groups = new Map<string, ConsumerQueue>();
  private readonly privateQueues = new Set<ConsumerQueue>();
  private readonly subscriptions = new Set<SubscriptionHandle>();
  /** Topic → queues that receive it; cleared whenever a filter changes. */
  private targets = new Map<string, ConsumerQueue[]>();
  private dirty: ConsumerQueue[] = [];
  private spare: ConsumerQueue[] = [];
  private later: ConsumerQueue[] = [];
  private drainPending = false;
  private readonly delayed = new DelayScheduler<MemoryDelivery>((delivery) => this.release(delivery));
  private overCount = 0;
  private jobs: JobBackend | undefined;
  private pressure: { readonly promise: Promise<void>; readonly resolve: () => void } | null = null;
  private readonly closer: Closer;
  private readonly runDrains = (): void => this.drainDirty();
  private readonly runLater = (): void => this.drainLater();

  constructor(options: ResolvedOptions) {
    this.options = options;
    this.highWaterMark = options.highWaterMark;
    this.closer = new Closer({
      where: 'memoryTransport.close()',
      defaultTimeoutMs: DEFAULTS.closeTimeoutMs,
      close: (timeoutMs) => this.shutdown(timeoutMs),
      signal: options.signal,
    });
  }

  private get closed(): boolean {
    return this.closer.closed;
  }

  publish(messages: ReadonlyArray<TransportMessage>): Promise<void> {
    if (this.closed) return Promise.reject(new ClosedError('the memory transport', 'publish'));
    const invalid = checkPublishBatch(messages, 'memoryTransport.publish()');
    if (invalid !== undefined) return Promise.reject(invalid);
    let now = 0;
    for (let i = 0; i < messages.length; i++) {
      const message = messages[i] as TransportMessage;
      const targets = this.targets.get(message.topic) ?? this.resolveTargets(message.topic);
      const delayMs = message.delayMs;
      if (delayMs !== undefined && delayMs > 0) {
        if (now === 0) now = Date.now();
        for (const queue of targets) {
          const delivery = new MemoryDelivery(message, queue, 1, 0);
          delivery.dueAt = now + delayMs;
          this.delay(delivery);
        }
      } else {
        for (let j = 0; j < targets.length; j++) {
          const queue = targets[j] as ConsumerQueue;
          queue.enqueue(new MemoryDelivery(message, queue, 1, 0));
        }
      }
    }
    return this.overCount > 0 ? this.backpressure() : RESOLVED;
  }

  async subscribe(
    options: TransportSubscribeOptions,
    handler: (delivery: Delivery) => void | Promise<void>,
  ): Promise<TransportSubscription> {
    if (this.closed) throw new ClosedError('the memory transport', 'subscribe');
    if (typeof handler !== 'function') {
      throw new InvalidOptionError('memoryTransport.subscribe()', 'handler', 'must be a function');
    }
    const spec = resolveSubscribeOptions(options);
    let queue: ConsumerQueue;
    if (spec.group === undefined) {
      queue = new ConsumerQueue(this, undefined);
      queue.addFilter(spec);
      this.privateQueues.add(queue);
      this.targets = new Map();
    } else {
      queue = this.groups.get(spec.group) ?? this.createGroup(spec.group);
      if (queue.addFilter(spec)) this.targets = new Map();
    }
    const member = new Member(queue, spec, handler);
    this.leases.members.add(member);
    this.leases.tighten(spec.visibilityTimeoutMs);
    queue.addMember(member);
    const subscription: SubscriptionHandle = new SubscriptionHandle({
      defaultTimeoutMs: DEFAULTS.closeTimeoutMs,
      close: async (timeoutMs) => {
        await this.closeMember(member, timeoutMs);
        this.subscriptions.delete(subscription);
      },
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    this.subscriptions.add(subscription);
    return subscription;
  }

  /** The memory job backend of this transport, made on first use. */
  jobBackend(): JobBackend {
    this.jobs ??= memoryJobBackend();
    return this.jobs;
  }

  /** Creates the group's queue without a member: it keeps what is published from now on (nothing older is kept). */
  async declareGroup(declaration: GroupDeclaration): Promise<void> {
    if (this.closed) throw new ClosedError('the memory transport', 'declareGroup');
    const { group, topics, pattern, match } = resolveGroupDeclaration(
      'memoryTransport.declareGroup()',
      declaration,
    );
    const queue = this.groups.get(group) ?? this.createGroup(group);
    if (queue.addFilter({ topics: new Set(topics), pattern, match: match ?? null })) this.targets = new Map();
  }

  close(options?: { readonly timeoutMs?: number }): Promise<void> {
    return this.closer.close(options);
  }

  isClosed(): boolean {
    return this.closed;
  }

  scheduleDrain(queue: ConsumerQueue): void {
    queue.scheduled = true;
    this.dirty.push(queue);
    if (!this.drainPending) {
      this.drainPending = true;
      queueMicrotask(this.runDrains);
    }
  }

  delay(delivery: MemoryDelivery): void {
    this.delayed.schedule(delivery);
  }

  addDeadLetter(delivery: MemoryDelivery, input: DeadLetterInput): void {
    this.deadLetters.add(delivery, input);
  }

  reportError(error: unknown, delivery: MemoryDelivery): void {
    try {
      this.options.onError?.(error, delivery);
    } catch {
      // A failing error reporter must not break delivery bookkeeping; there is nowhere left to report to.
    }
  }

  pressureChanged(delta: 1 | -1): void {
    this.overCount += delta;
    if (this.overCount === 0) this.releasePublishers();
  }

  redrive(record: DeadLetterRecord): boolean {
    const { letter, queue } = record;
    if (queue.name !== undefined || !queue.discarded) {
      queue.enqueue(new MemoryDelivery(letter.message, queue, 1, 0));
      return true;
    }
    let sent = false;
    for (const other of this.privateQueues) {
      if (other.matches(letter.message.topic)) {
        other.enqueue(new MemoryDelivery(letter.message, other, 1, 0));
        sent = true;
      }
    }
    return sent;
  }

  private createGroup(name: string): ConsumerQueue {
    const queue = new ConsumerQueue(this, name);
    this.groups.set(name, queue);
    return queue;
  }

  private resolveTargets(topic: string): ConsumerQueue[] {
    const targets: ConsumerQueue[] = [];
    for (const queue of this.groups.values()) if (queue.matches(topic)) targets.push(queue);
    for (const queue of this.privateQueues) if (queue.matches(topic)) targets.push(queue);
    if (this.targets.size >= TOPIC_CACHE_LIMIT) this.targets.clear();
    this.targets.set(topic, targets);
    return targets;
  }

  private backpressure(): Promise<void> {
    if (this.pressure === null) {
      let resolve: () => void = () => {};
      const promise = new Promise<void>((done) => {
        resolve = done;
      });
      this.pressure = { promise, resolve };
    }
    return this.pressure.promise;
  }

  private drainDirty(): void {
    this.drainPending = false;
    const dirty = this.dirty;
    this.dirty = this.spare;
    for (let i = 0; i < dirty.length; i++) {
      const queue = dirty[i] as ConsumerQueue;
      queue.scheduled = false;
      if (queue.drain(DRAIN_BUDGET) === 0 && queue.backlog > 0 && !queue.scheduled) {
        queue.scheduled = true;
        if (this.later.push(queue) === 1) setImmediate(this.runLater);
      }
    }
    dirty.length = 0;
    this.spare = dirty;
  }

  private drainLater(): void {
    const later = this.later;
    this.later = [];
    for (const queue of later) {
      queue.scheduled = false;
      this.scheduleDrain(queue);
    }
  }

  /** A delay is over: a delayed publish joins the line; a nack-delayed retry (it may hold its key) goes first. */
  private release(delivery: MemoryDelivery): void {
    const queue = delivery.queue;
    if (queue.discarded) return;
    if (delivery.firstAttemptAt === 0) queue.enqueue(delivery);
    else queue.requeue(delivery);
  }

  private async closeMember(member: Member, timeoutMs: number): Promise<void> {
    const queue = member.queue;
    queue.removeMember(member);
    if (queue.name === undefined) {
      queue.discard();
      this.privateQueues.delete(queue);
      this.targets = new Map();
    }
    await member.finish(timeoutMs);
    this.leases.members.delete(member);
  }

  private async shutdown(timeoutMs: number): Promise<void> {
    await Promise.all([...this.subscriptions].map((subscription) => subscription.close({ timeoutMs })));
    this.delayed.clear();
    this.leases.stop();
    // Nothing drains any more: publishers still waiting must not hang.
    this.overCount = 0;
    this.releasePublishers();
  }

  private releasePublishers(): void {
    if (this.pressure === null) return;
    const { resolve } = this.pressure;
    this.pressure = null;
    resolve();
  }
}

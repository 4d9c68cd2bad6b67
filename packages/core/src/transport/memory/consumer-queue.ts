import { Fifo } from '../../transport-kit/fifo';
import { KeyLocks } from '../../transport-kit/key-locks';
import type { DeadLetterInput } from '../transport';
import { DeliveryState, type MemoryDelivery } from './delivery';
import type { LeaseSweeper } from './lease-sweeper';
import type { Member } from './member';
import type { SubscriptionSpec } from './options';

const { IN_FLIGHT, DONE } = DeliveryState;

/**
 * What a consumer queue needs from its transport: timers, dead letters, error reporting and backpressure.
 *
 * @example
 * ```ts
 * const queue = new ConsumerQueue(host, 'mailer');
 * ```
 */
export interface QueueHost {
  readonly highWaterMark: number;
  readonly leases: LeaseSweeper;
  scheduleDrain(queue: ConsumerQueue): void;
  delay(delivery: MemoryDelivery): void;
  addDeadLetter(delivery: MemoryDelivery, input: DeadLetterInput): void;
  reportError(error: unknown, delivery: MemoryDelivery): void;
  pressureChanged(delta: 1 | -1): void;
}

interface CompiledPattern {
  readonly source: string;
  readonly match: (topic: string) => boolean;
}

/**
 * The messages of one consumer group (or of one group-less subscriber), and the rules for handing them out:
 * competing members, per-key order, redelivery first, at most `concurrency` in flight per member.
 *
 * Queues, in the order `drain` reads them: `waiting` (taken off the line but no free member accepts their topic
 * yet), `urgent` (redeliveries, and messages released by a key lock; each holds its key), `ready` (fresh
 * messages in publish order). A keyed message taken from `ready` locks its key until it is acked or
 * dead-lettered; later messages with a locked key are parked under the lock, in order.
 *
 * @example
 * ```ts
 * queue.enqueue(new MemoryDelivery(message, queue, 1, 0));
 * ```
 */
export class ConsumerQueue {
  /** Group name; `undefined` for a group-less subscriber's private queue. */
  readonly name: string | undefined;
  readonly members: Member[] = [];
  /** Messages queued and not yet handed out (delayed ones excluded). */
  backlog = 0;
  /** A drain is scheduled. */
  scheduled = false;
  /** A group-less subscriber's queue after it closed: everything is dropped. */
  discarded = false;
  private draining = false;
  private over = false;
  private free = 0;
  private next = 0;
  private readonly host: QueueHost;
  private readonly ready = new Fifo<MemoryDelivery>();
  private readonly urgent = new Fifo<MemoryDelivery>();
  private waiting: Map<string, Fifo<MemoryDelivery>> | null = null;
  private readonly locks = new KeyLocks<MemoryDelivery>();
  private readonly topics = new Set<string>();
  private readonly patterns: CompiledPattern[] = [];

  constructor(host: QueueHost, name: string | undefined) {
    this.host = host;
    this.name = name;
  }

  /** Whether any subscription this queue ever had (its union filter) accepts `topic`. */
  matches(topic: string): boolean {
    return this.topics.has(topic) || this.patterns.some((pattern) => pattern.match(topic));
  }

  /** Widens the union filter; returns whether it grew. */
  addFilter(spec: Pick<SubscriptionSpec, 'topics' | 'pattern' | 'match'>): boolean {
    let grew = false;
    for (const topic of spec.topics ?? []) {
      if (!this.topics.has(topic)) {
        this.topics.add(topic);
        grew = true;
      }
    }
    const { pattern, match } = spec;
    if (pattern !== undefined && match !== null && !this.patterns.some((known) => known.source === pattern)) {
      this.patterns.push({ source: pattern, match });
      grew = true;
    }
    if (grew) for (const member of this.members) member.covers = this.isCoveredBy(member);
    return grew;
  }

  addMember(member: Member): void {
    member.covers = this.isCoveredBy(member);
    this.members.push(member);
    this.free += member.concurrency;
    this.updatePressure();
    this.kick();
  }

  removeMember(member: Member): void {
    if (!member.active) return;
    member.active = false;
    this.members.splice(this.members.indexOf(member), 1);
    this.free -= member.concurrency - member.inflight.length;
    this.updatePressure();
  }

  /** Drops everything queued: the group-less subscriber that owned this queue has closed. */
  discard(): void {
    this.discarded = true;
    this.ready.takeAll();
    this.urgent.takeAll();
    this.waiting = null;
    this.locks.clear();
    this.backlog = 0;
    this.updatePressure();
  }

  /** Queues a fresh message behind the others. */
  enqueue(delivery: MemoryDelivery): void {
    this.ready.push(delivery);
    if (++this.backlog > this.host.highWaterMark && !this.over) this.updatePressure();
    if (!this.scheduled && !this.draining && this.members.length > 0) this.host.scheduleDrain(this);
  }

  /** Queues a redelivery, or a message that holds its key, ahead of fresh ones. */
  requeue(delivery: MemoryDelivery): void {
    this.urgent.push(delivery);
    if (++this.backlog > this.host.highWaterMark && !this.over) this.updatePressure();
    this.kick();
  }

  /**
   * Hands out as much as free members can take, at most `budget` deliveries; returns the budget left.
   */
  drain(budget: number): number {
    if (this.free <= 0 || this.discarded) return budget;
    this.draining = true;
    let now = Date.now();
    try {
      if (this.waiting !== null) budget = this.retryWaiting(now, budget);
      while (this.free > 0 && budget > 0) {
        let delivery = this.urgent.shift();
        if (delivery === undefined) {
          delivery = this.ready.shift();
          if (delivery === undefined) break;
          if (delivery.key !== undefined && !this.locks.acquire(delivery.key, delivery)) continue;
        }
        const member = this.pick(delivery.message.topic);
        if (member === undefined) {
          this.wait(delivery);
          continue;
        }
        // Refresh the clock now and then: synchronous handlers may keep one drain busy for a while.
        if ((--budget & 255) === 0) now = Date.now();
        this.dispatch(member, delivery, now);
      }
    } finally {
      this.draining = false;
    }
    return budget;
  }

  ack(delivery: MemoryDelivery): void {
    this.release(delivery);
    if (delivery.key !== undefined) this.unlock(delivery.key);
    this.kick();
  }

  nack(delivery: MemoryDelivery, delayMs: number): void {
    this.release(delivery);
    if (this.discarded) return;
    const next = delivery.retry();
    if (delayMs > 0) {
      next.dueAt = Date.now() + delayMs;
      this.host.delay(next);
      this.kick();
    } else {
      this.requeue(next);
    }
  }

  deadLetter(delivery: MemoryDelivery, input: DeadLetterInput): void {
    this.release(delivery);
    this.host.addDeadLetter(delivery, input);
    if (delivery.key !== undefined) this.unlock(delivery.key);
    this.kick();
  }

  /** Takes back an unsettled delivery (lease expired, or its subscriber closed) and aborts its signal. */
  takeBack(delivery: MemoryDelivery, reason: Error): void {
    if (delivery.state !== IN_FLIGHT) return;
    this.release(delivery);
    if (!this.discarded) this.requeue(delivery.retry());
    delivery.abort(reason);
  }

  private dispatch(member: Member, delivery: MemoryDelivery, now: number): void {
    if (--this.backlog < this.host.highWaterMark && this.over) this.updatePressure();
    delivery.member = member;
    delivery.start(now, member.visibilityTimeoutMs);
    delivery.slot = member.inflight.push(delivery) - 1;
    this.free--;
    const leases = this.host.leases;
    if (!leases.running) leases.start();
    let result: unknown;
    try {
      result = member.handler(delivery);
    } catch (error) {
      this.failed(delivery, error);
      return;
    }
    if (
      typeof result === 'object' &&
      result !== null &&
      typeof (result as PromiseLike<void>).then === 'function'
    ) {
      (result as PromiseLike<void>).then(undefined, (error: unknown) => this.failed(delivery, error));
    }
  }

  private failed(delivery: MemoryDelivery, error: unknown): void {
    if (delivery.state === IN_FLIGHT) this.nack(delivery, 0);
    this.host.reportError(error, delivery);
  }

  private release(delivery: MemoryDelivery): void {
    delivery.state = DONE;
    const member = delivery.member as Member;
    const inflight = member.inflight;
    const last = inflight.pop() as MemoryDelivery;
    if (last !== delivery) {
      inflight[delivery.slot] = last;
      last.slot = delivery.slot;
    }
    if (member.active) this.free++;
    else if (inflight.length === 0) member.onIdle?.();
  }

  private kick(): void {
    if (this.backlog > 0 && !this.scheduled && !this.draining && this.members.length > 0) {
      this.host.scheduleDrain(this);
    }
  }

  /** Round-robin over members with a free slot whose own filter accepts the topic. */
  private pick(topic: string): Member | undefined {
    const members = this.members;
    const count = members.length;
    let index = this.next;
    for (let tried = 0; tried < count; tried++) {
      if (index >= count) index = 0;
      const member = members[index++] as Member;
      if (member.inflight.length < member.concurrency && (member.covers || member.matches(topic))) {
        this.next = index;
        return member;
      }
    }
    return undefined;
  }

  /** Releases a key: the next message parked behind it (if any) takes the lock and goes to the front. */
  private unlock(key: string): void {
    const next = this.locks.release(key);
    if (next !== undefined) this.urgent.push(next);
  }

  private wait(delivery: MemoryDelivery): void {
    const topic = delivery.message.topic;
    this.waiting ??= new Map();
    let fifo = this.waiting.get(topic);
    if (fifo === undefined) {
      fifo = new Fifo();
      this.waiting.set(topic, fifo);
    }
    fifo.push(delivery);
  }

  private retryWaiting(now: number, budget: number): number {
    const waiting = this.waiting as Map<string, Fifo<MemoryDelivery>>;
    for (const [topic, fifo] of waiting) {
      while (this.free > 0 && budget > 0 && fifo.length > 0) {
        const member = this.pick(topic);
        if (member === undefined) break;
        budget--;
        this.dispatch(member, fifo.shift() as MemoryDelivery, now);
      }
      if (fifo.length === 0) waiting.delete(topic);
      if (this.free <= 0 || budget <= 0) break;
    }
    if (waiting.size === 0 && this.waiting === waiting) this.waiting = null;
    return budget;
  }

  private isCoveredBy(member: Member): boolean {
    for (const topic of this.topics) if (!member.matches(topic)) return false;
    return this.patterns.every((pattern) => pattern.source === member.pattern);
  }

  private updatePressure(): void {
    const limit = this.host.highWaterMark;
    const over = this.members.length > 0 && (this.over ? this.backlog >= limit : this.backlog > limit);
    if (over !== this.over) {
      this.over = over;
      this.host.pressureChanged(over ? 1 : -1);
    }
  }
}

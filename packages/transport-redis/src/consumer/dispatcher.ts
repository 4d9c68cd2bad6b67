import { Fifo } from '@relaybus/core/transport-kit';
import type { Item, PartitionState } from './partition';
import { RedisDelivery, type Settler } from './redis-delivery';

/** How a delivery ended, as far as handing out its key's next message is concerned. */
export type Outcome =
  | { readonly kind: 'done' }
  | { readonly kind: 'retry' }
  | { readonly kind: 'hold'; readonly nonce: string }
  | { readonly kind: 'drop' };

/** What the dispatcher needs from its subscription. */
export interface DispatchHost {
  /** Calls the user's handler. */
  handle(delivery: RedisDelivery): void;
  /** A delivery's visibility timeout ran out. */
  expired(delivery: RedisDelivery): void;
  /** Room for more reads, or a draining partition became idle. */
  changed(): void;
}

/** Limits of one subscription. */
export interface DispatchLimits {
  readonly concurrency: number;
  readonly prefetch: number;
  readonly visibilityTimeoutMs: number;
}

/**
 * Hands read messages to the handler: at most `concurrency` at once, one message per key at a time in stream
 * order (a nacked message goes first; one nacked with a delay holds its key until its retry is read back),
 * other keys concurrently. Watches visibility timeouts.
 */
export class Dispatcher {
  readonly inflight: Set<RedisDelivery> = new Set();
  closing = false;
  readonly #host: DispatchHost;
  readonly #settler: Settler;
  readonly #limits: DispatchLimits;
  readonly #urgent = new Fifo<Item>();
  readonly #ready = new Fifo<Item>();
  readonly #holds = new Map<string, { readonly partition: PartitionState; readonly key: string }>();
  /** Partitions with paused items. */
  readonly #pausedIn = new Set<PartitionState>();
  #active = 0;
  #queued = 0;
  #heldParked = 0;
  #pumping = false;
  #sweeper: ReturnType<typeof setInterval> | undefined;
  #idleWaiters: Array<() => void> = [];

  constructor(host: DispatchHost, settler: Settler, limits: DispatchLimits) {
    this.#host = host;
    this.#settler = settler;
    this.#limits = limits;
  }

  /** How many more messages may be read now. */
  room(): number {
    return this.#limits.prefetch - (this.#active + this.#queued - this.#heldParked);
  }

  /** Queues a message read from a live partition. */
  accept(item: Item): void {
    const partition = item.partition;
    const key = item.message.key;
    partition.queued++;
    this.#queued++;
    partition.entries.add(item.entryId);
    if (item.nonce !== undefined && key !== undefined && this.#liftHold(item, key)) {
      this.#urgent.push(item);
    } else if (key === undefined) {
      this.#ready.push(item);
    } else {
      const slot = partition.keys.get(key);
      if (slot === undefined) {
        partition.keys.set(key, { parked: [], hold: undefined });
        this.#ready.push(item);
      } else {
        slot.parked.push(item);
        if (slot.hold !== undefined) {
          partition.heldParked++;
          this.#heldParked++;
        }
      }
    }
    this.pump();
  }

  /** Makes `key` wait for the retry with `nonce` (known from the delayed set at takeover). */
  hold(partition: PartitionState, key: string, nonce: string): void {
    if (partition.keys.has(key)) return;
    partition.keys.set(key, { parked: [], hold: nonce });
    this.#holds.set(nonce, { partition, key });
  }

  /**
   * Hands out queued messages while there is capacity. A message whose partition lease cannot be proven now waits in
   * its partition's paused list (see {@link Dispatcher.resume}).
   */
  pump(): void {
    if (this.#pumping || this.closing) return;
    this.#pumping = true;
    try {
      let now = 0;
      while (this.#active < this.#limits.concurrency && !this.closing) {
        const item = this.#urgent.shift() ?? this.#ready.shift();
        if (item === undefined) break;
        now ||= Date.now();
        if (item.partition.lease.proven(now)) {
          this.#start(item);
        } else {
          item.partition.paused.push(item);
          this.#pausedIn.add(item.partition);
        }
      }
    } finally {
      this.#pumping = false;
    }
  }

  /** Queues again what `partition` paused while its lease could not be proven, ahead of newer messages. */
  resume(partition: PartitionState): void {
    const paused = partition.paused;
    this.#pausedIn.delete(partition);
    if (paused.length === 0) return;
    partition.paused = [];
    for (const item of paused) this.#urgent.push(item);
    this.pump();
  }

  /** Aborts the signal of every delivery in flight for the partitions `which` selects. */
  abort(which: (partition: PartitionState) => boolean, reason: Error): void {
    for (const delivery of this.inflight) if (which(delivery.item.partition)) delivery.abort(reason);
  }

  /** Records how a delivery ended and moves its key on. */
  finish(delivery: RedisDelivery, outcome: Outcome): void {
    if (!this.inflight.delete(delivery)) return;
    const item = delivery.item;
    const partition = item.partition;
    const key = item.message.key;
    partition.active--;
    this.#active--;
    const again = outcome.kind === 'retry' && partition.live && !this.closing;
    if (!again) partition.entries.delete(item.entryId);
    if (again) {
      partition.queued++;
      this.#queued++;
      this.#urgent.push({ ...item, attempt: item.attempt + 1, firstAttemptAt: delivery.firstAttemptAt });
    } else if (outcome.kind === 'hold' && partition.live && key !== undefined && partition.keys.has(key)) {
      const slot = partition.keys.get(key);
      if (slot !== undefined) {
        slot.hold = outcome.nonce;
        partition.heldParked += slot.parked.length;
        this.#heldParked += slot.parked.length;
        this.#holds.set(outcome.nonce, { partition, key });
      }
    } else {
      this.#releaseKey(partition, key);
    }
    if (this.inflight.size === 0) {
      this.#stopSweeper();
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const wake of waiters) wake();
    }
    this.pump();
    this.#host.changed();
  }

  /** Whether a retry of a message of `partition` would be handed out here again. */
  redelivers(partition: PartitionState): boolean {
    return partition.live && !this.closing;
  }

  /** Takes every queued (not yet handed out) message of the partitions `which` selects out of the queues. */
  drop(which: (partition: PartitionState) => boolean): Item[] {
    const picked = (item: Item): boolean => which(item.partition);
    const dropped = [...this.#urgent.remove(picked), ...this.#ready.remove(picked)];
    const seen = new Set<PartitionState>(dropped.map((item) => item.partition));
    for (const partition of this.#pausedIn) {
      if (!which(partition)) continue;
      dropped.push(...partition.paused);
      partition.paused = [];
      this.#pausedIn.delete(partition);
      seen.add(partition);
    }
    for (const [nonce, hold] of this.#holds) {
      if (which(hold.partition)) {
        this.#holds.delete(nonce);
        seen.add(hold.partition);
      }
    }
    for (const delivery of this.inflight)
      if (which(delivery.item.partition)) seen.add(delivery.item.partition);
    for (const partition of seen) {
      for (const slot of partition.keys.values()) dropped.push(...slot.parked);
      partition.keys.clear();
      for (const item of dropped) if (item.partition === partition) partition.entries.delete(item.entryId);
      this.#queued -= partition.queued;
      this.#heldParked -= partition.heldParked;
      partition.queued = 0;
      partition.heldParked = 0;
    }
    return dropped;
  }

  /** Resolves `true` once nothing is in flight, or `false` after `timeoutMs`. */
  whenIdle(timeoutMs: number): Promise<boolean> {
    if (this.inflight.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#idleWaiters = this.#idleWaiters.filter((waiter) => waiter !== wake);
        resolve(false);
      }, timeoutMs);
      const wake = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      this.#idleWaiters.push(wake);
    });
  }

  /** Stops the visibility sweeper. */
  stop(): void {
    this.#stopSweeper();
  }

  #liftHold(item: Item, key: string): boolean {
    const nonce = item.nonce as string;
    const hold = this.#holds.get(nonce);
    if (hold === undefined || hold.partition !== item.partition || hold.key !== key) return false;
    this.#holds.delete(nonce);
    const slot = item.partition.keys.get(key);
    if (slot === undefined || slot.hold !== nonce) return false;
    slot.hold = undefined;
    item.partition.heldParked -= slot.parked.length;
    this.#heldParked -= slot.parked.length;
    return true;
  }

  #start(item: Item): void {
    const partition = item.partition;
    partition.queued--;
    this.#queued--;
    partition.active++;
    this.#active++;
    const delivery = new RedisDelivery(item, this.#settler, Date.now(), this.#limits.visibilityTimeoutMs);
    this.inflight.add(delivery);
    if (this.#sweeper === undefined) {
      const periodMs = Math.min(1_000, Math.max(5, Math.floor(this.#limits.visibilityTimeoutMs / 10)));
      this.#sweeper = setInterval(() => this.#sweep(), periodMs);
    }
    this.#host.handle(delivery);
  }

  #releaseKey(partition: PartitionState, key: string | undefined): void {
    if (key === undefined) return;
    const slot = partition.keys.get(key);
    if (slot === undefined || slot.hold !== undefined) return;
    const next = slot.parked.shift();
    if (next === undefined) partition.keys.delete(key);
    else this.#urgent.push(next);
  }

  #sweep(): void {
    const now = Date.now();
    for (const delivery of this.inflight) {
      if (delivery.deadline <= now && delivery.inFlight) this.#host.expired(delivery);
    }
  }

  #stopSweeper(): void {
    if (this.#sweeper !== undefined) clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }
}

import type { KitDelivery } from './delivery';
import { Fifo } from './fifo';
import { KeyLocks } from './key-locks';

/**
 * What a {@link KeyedDispatcher} calls.
 *
 * @example
 * ```ts
 * const target: DispatchTarget<QueueDelivery> = {
 *   handle: (delivery) => invokeHandler(handler, delivery, onError),
 *   expired: (delivery) => takeBackAndRequeue(delivery),
 * };
 * ```
 */
export interface DispatchTarget<D extends KitDelivery> {
  /** Runs the handler on a delivery that was just started (`IN_FLIGHT`, deadline set). */
  handle(delivery: D): void;
  /**
   * A delivery's visibility timeout ran out while it was still in flight. The transport takes it back (see
   * {@link KitDelivery.takeBack}), hands the message back to the broker, and calls {@link KeyedDispatcher.finish}.
   */
  expired(delivery: D): void;
}

/**
 * Limits of a {@link KeyedDispatcher}.
 *
 * @example
 * ```ts
 * const limits: DispatchLimits = { concurrency: 8, visibilityTimeoutMs: 30_000 };
 * ```
 */
export interface DispatchLimits {
  /** Most deliveries in flight at once. */
  readonly concurrency: number;
  /** How long a delivery may stay in flight before {@link DispatchTarget.expired} is called for it. */
  readonly visibilityTimeoutMs: number;
}

/**
 * The keyed dispatcher of a push-based transport: it takes deliveries as the broker sends them and hands them to the
 * handler with at most `concurrency` in flight, one delivery per ordering key at a time in arrival order (keys
 * run concurrently with each other, unkeyed deliveries run freely), and watches visibility timeouts with a sweep that
 * stops once nothing is in flight (and `close()` stops it). `whenIdle` waits for in-flight deliveries (for a graceful close).
 *
 * The transport calls {@link KeyedDispatcher.finish} once per delivery it started, when the delivery is settled or
 * taken back; passing the next attempt there hands it out first, still holding the key, so a message retried at once
 * keeps its place before later messages of its key.
 *
 * @example
 * ```ts
 * import { KeyedDispatcher } from '@relaybus/core/transport-kit';
 *
 * const dispatcher = new KeyedDispatcher<QueueDelivery>(target, { concurrency: 4, visibilityTimeoutMs: 30_000 });
 * channel.consume(queue, (raw) => dispatcher.push(new QueueDelivery(decode(raw), raw, channel)));
 * // in QueueDelivery.settleAck(): channel.ack(raw); dispatcher.finish(this);
 * ```
 */
export class KeyedDispatcher<D extends KitDelivery> {
  /** Deliveries in flight. */
  readonly inflight: Set<D> = new Set();
  readonly #target: DispatchTarget<D>;
  readonly #limits: DispatchLimits;
  readonly #urgent = new Fifo<D>();
  readonly #ready = new Fifo<D>();
  readonly #locks = new KeyLocks<D>();
  #closed = false;
  #pumping = false;
  #sweeper: ReturnType<typeof setInterval> | undefined;
  #idleWaiters: Array<() => void> = [];

  constructor(target: DispatchTarget<D>, limits: DispatchLimits) {
    this.#target = target;
    this.#limits = limits;
  }

  /** Deliveries waiting (not yet handed out), including those parked behind a busy key. */
  get queued(): number {
    return this.#urgent.length + this.#ready.length + this.#locks.parked;
  }

  /** Queues a delivery behind the others and hands out what capacity allows. */
  push(delivery: D): void {
    if (this.#closed) return;
    const key = delivery.key;
    if (key === undefined || this.#locks.acquire(key, delivery)) this.#ready.push(delivery);
    this.pump();
  }

  /**
   * Records that a delivery this dispatcher started is over (settled or taken back), releases its key and hands out
   * more. With `next` (the delivery's next attempt, kept by the transport), `next` goes first and keeps the key.
   */
  finish(delivery: D, next?: D): void {
    if (!this.inflight.delete(delivery)) return;
    const key = delivery.key;
    if (next !== undefined && !this.#closed) {
      this.#urgent.push(next);
    } else if (key !== undefined) {
      const parked = this.#locks.release(key);
      if (parked !== undefined) this.#urgent.push(parked);
    }
    if (this.inflight.size === 0) this.#wakeIdleWaiters();
    this.pump();
  }

  /** Hands out queued deliveries while fewer than `concurrency` are in flight. */
  pump(): void {
    if (this.#pumping || this.#closed) return;
    this.#pumping = true;
    try {
      let now = 0;
      while (this.inflight.size < this.#limits.concurrency && !this.#closed) {
        const delivery = this.#urgent.shift() ?? this.#ready.shift();
        if (delivery === undefined) break;
        now ||= Date.now();
        delivery.start(now, this.#limits.visibilityTimeoutMs);
        this.inflight.add(delivery);
        this.#startSweeper();
        this.#target.handle(delivery);
      }
    } finally {
      this.#pumping = false;
    }
  }

  /**
   * Stops handing out deliveries and returns every queued one (not in flight), oldest first per queue, for the
   * transport to hand back to its broker. In-flight deliveries stay; wait for them with {@link KeyedDispatcher.whenIdle}.
   */
  close(): D[] {
    this.#closed = true;
    const left = [...this.#urgent.takeAll(), ...this.#ready.takeAll(), ...this.#locks.takeAll()];
    this.#stopSweeper();
    if (this.inflight.size === 0) this.#wakeIdleWaiters();
    return left;
  }

  /** Resolves `true` once nothing is in flight, or `false` after `timeoutMs`. */
  whenIdle(timeoutMs: number): Promise<boolean> {
    if (this.inflight.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.#idleWaiters = this.#idleWaiters.filter((waiter) => waiter !== wake);
        resolve(false);
      }, timeoutMs);
      this.#idleWaiters.push(wake);
    });
  }

  #wakeIdleWaiters(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const wake of waiters) wake();
  }

  #startSweeper(): void {
    if (this.#sweeper !== undefined) return;
    const periodMs = Math.min(1_000, Math.max(5, Math.floor(this.#limits.visibilityTimeoutMs / 10)));
    this.#sweeper = setInterval(() => this.#sweep(), periodMs);
    this.#sweeper.unref?.();
  }

  #stopSweeper(): void {
    if (this.#sweeper !== undefined) clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }

  #sweep(): void {
    // The sweeper stops on the first sweep that finds nothing in flight, not on every idle moment: at a low rate
    // that would start and stop a timer per message.
    if (this.inflight.size === 0) {
      this.#stopSweeper();
      return;
    }
    const now = Date.now();
    for (const delivery of this.inflight) {
      if (delivery.deadline <= now && delivery.inFlight) this.#target.expired(delivery);
    }
  }
}

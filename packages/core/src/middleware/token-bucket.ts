import { RelaybusError } from '../errors';

interface Waiter {
  resolve(): void;
  reject(reason: unknown): void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  done: boolean;
}

/**
 * A token bucket: holds up to `burst` tokens and refills `perSecond` of them per second. Callers that find it empty
 * wait in FIFO order behind one shared timer.
 */
export class TokenBucket {
  private tokens: number;
  private refilledAt: number;
  private readonly queue: Array<Waiter | undefined> = [];
  private head = 0;
  private waiting = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly maxWaiting: number,
  ) {
    this.tokens = burst;
    this.refilledAt = performance.now();
  }

  /** Takes a token now if one is free and nobody waits; otherwise returns `false` without waiting. */
  tryTake(): boolean {
    if (this.waiting > 0) return false;
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /**
   * Waits for a token, behind earlier waiters. Rejects with `signal.reason` when `signal` aborts first, and at
   * once with a `RATE_LIMITED` error when `maxWaiting` callers already wait.
   */
  take(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.tryTake()) return Promise.resolve();
    if (this.waiting >= this.maxWaiting) {
      return Promise.reject(
        new RelaybusError(
          'RATE_LIMITED',
          `Rate limit of ${this.perSecond}/s reached and ${this.waiting} calls already wait; raise perSecond or maxWaiting, or slow the producer.`,
        ),
      );
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal, onAbort: undefined, done: false };
      if (signal !== undefined) {
        waiter.onAbort = () => this.cancel(waiter);
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.queue.push(waiter);
      this.waiting++;
      this.schedule();
    });
  }

  private refill(): void {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.refilledAt) * this.perSecond) / 1000);
    this.refilledAt = now;
  }

  private schedule(): void {
    if (this.timer !== undefined || this.waiting === 0) return;
    const delayMs = Math.max(0, ((1 - this.tokens) * 1000) / this.perSecond);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.drain();
    }, Math.ceil(delayMs));
  }

  private drain(): void {
    this.refill();
    while (this.waiting > 0 && this.tokens >= 1) {
      const waiter = this.shift();
      if (waiter === undefined) break;
      this.tokens -= 1;
      this.settle(waiter);
      waiter.resolve();
    }
    this.schedule();
  }

  /** Next live waiter; cancelled ones are skipped (they were already counted out of `waiting`). */
  private shift(): Waiter | undefined {
    let waiter: Waiter | undefined;
    while (waiter === undefined && this.head < this.queue.length) {
      const next = this.queue[this.head];
      this.queue[this.head++] = undefined;
      if (next !== undefined && !next.done) waiter = next;
    }
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    return waiter;
  }

  private cancel(waiter: Waiter): void {
    if (waiter.done) return;
    this.settle(waiter);
    waiter.reject(waiter.signal?.reason);
    if (this.waiting === 0 && this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  private settle(waiter: Waiter): void {
    waiter.done = true;
    this.waiting--;
    if (waiter.onAbort !== undefined) waiter.signal?.removeEventListener('abort', waiter.onAbort);
  }
}

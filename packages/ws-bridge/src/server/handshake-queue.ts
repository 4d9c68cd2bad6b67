/**
 * Lets connection attempts through at a steady rate (a token bucket holding one second's worth), queueing the rest
 * in arrival order up to a bound. A reconnect storm after a deploy becomes a queue the server works through, not a
 * spike of authentication calls.
 *
 * @example
 * ```ts
 * const queue = new HandshakeQueue(500, 10_000);
 * if (!queue.push(() => accept(request))) refuse(request);
 * ```
 */
export class HandshakeQueue {
  readonly #perSecond: number;
  readonly #maxQueued: number;
  readonly #waiting: Array<() => void> = [];
  #tokens: number;
  #refilledAt = Date.now();
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(perSecond: number, maxQueued: number) {
    this.#perSecond = perSecond;
    this.#maxQueued = maxQueued;
    this.#tokens = perSecond;
  }

  /** Attempts waiting in line. */
  get size(): number {
    return this.#waiting.length;
  }

  /** Runs `start` now or when its turn comes; `false` when the line is full (refuse the attempt). */
  push(start: () => void): boolean {
    this.#refill();
    if (this.#waiting.length === 0 && this.#tokens >= 1) {
      this.#tokens--;
      start();
      return true;
    }
    if (this.#waiting.length >= this.#maxQueued) return false;
    this.#waiting.push(start);
    this.#schedule();
    return true;
  }

  /** Drops every waiting attempt without running it. */
  clear(): void {
    this.#waiting.length = 0;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #refill(): void {
    const now = Date.now();
    this.#tokens = Math.min(
      this.#perSecond,
      this.#tokens + ((now - this.#refilledAt) * this.#perSecond) / 1_000,
    );
    this.#refilledAt = now;
  }

  #schedule(): void {
    if (this.#timer !== undefined) return;
    const waitMs = Math.max(1, Math.ceil(((1 - this.#tokens) * 1_000) / this.#perSecond));
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#refill();
      while (this.#waiting.length > 0 && this.#tokens >= 1) {
        this.#tokens--;
        this.#waiting.shift()?.();
      }
      if (this.#waiting.length > 0) this.#schedule();
    }, waitMs);
  }
}

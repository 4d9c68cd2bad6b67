/**
 * What one member can prove about its partition leases on one topic: until when they surely have not passed to
 * another member. A lease lasts `leaseTtlMs` from the moment Redis ran the heartbeat that renewed it, which is no
 * earlier than the moment this process sent it, so `sentAt + leaseTtlMs` is a bound that needs no agreement between
 * clocks (only that they run at the same rate). The member hands out messages and starts reads only while that bound
 * is further away than a margin (a fifth of the TTL), so a handler started just before has time to finish and a read
 * cannot be served after the lease could have passed.
 *
 * A heartbeat proves nothing when it was sent before the proof was withdrawn (the read connection dropped: Redis may
 * have restarted without its data, leases included, and given the partitions to whoever asked first).
 */
export class LeaseClock {
  /** How far ahead of the bound the member stops, in milliseconds. */
  readonly marginMs: number;
  readonly #ttlMs: number;
  #provenUntil = 0;
  #epoch = 0;

  constructor(ttlMs: number) {
    this.#ttlMs = ttlMs;
    this.marginMs = Math.max(10, Math.floor(ttlMs / 5));
  }

  /** Changes whenever the proof is withdrawn; a heartbeat records it when sent. */
  get epoch(): number {
    return this.#epoch;
  }

  /** Milliseconds in which the member may still hand out and read; 0 or less: it is fenced. */
  remainingMs(now: number = Date.now()): number {
    return this.#provenUntil - this.marginMs - now;
  }

  /** Whether the member may hand out messages of the topic now. */
  proven(now: number = Date.now()): boolean {
    return this.remainingMs(now) > 0;
  }

  /** A heartbeat sent at `sentAt` during `epoch` renewed the leases; returns whether that proves them. */
  renew(sentAt: number, epoch: number): boolean {
    if (epoch !== this.#epoch) return false;
    this.#provenUntil = Math.max(this.#provenUntil, sentAt + this.#ttlMs);
    return true;
  }

  /** Withdraws the proof until a heartbeat sent from now on succeeds. */
  withdraw(): void {
    this.#epoch++;
    this.#provenUntil = 0;
  }
}

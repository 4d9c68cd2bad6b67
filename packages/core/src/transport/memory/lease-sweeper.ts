import { TransportError } from '../../errors';
import type { MemoryDelivery } from './delivery';
import type { Member } from './member';

const MAX_PERIOD_MS = 250;

/**
 * Enforces visibility timeouts with one coarse, unref'd timer that runs only while something is in flight:
 * every `min(visibilityTimeoutMs / 4, 250)` ms it takes back the deliveries whose lease has expired.
 *
 * @example
 * ```ts
 * const leases = new LeaseSweeper();
 * leases.members.add(member);
 * if (!leases.running) leases.start();
 * ```
 */
export class LeaseSweeper {
  /** Members not yet fully closed; their in-flight deliveries are watched. */
  readonly members: Set<Member> = new Set();
  /** A sweep is scheduled. */
  running = false;
  private periodMs = MAX_PERIOD_MS;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly fire = (): void => this.sweep();

  /** Schedules the next sweep, unless one already is. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.timer = setTimeout(this.fire, this.periodMs);
    this.timer.unref();
  }

  /** Sweeps often enough for a subscriber with this visibility timeout. */
  tighten(visibilityTimeoutMs: number): void {
    const periodMs = Math.max(1, Math.min(MAX_PERIOD_MS, Math.floor(visibilityTimeoutMs / 4)));
    if (periodMs >= this.periodMs) return;
    this.periodMs = periodMs;
    if (this.running) {
      this.stop();
      this.start();
    }
  }

  /** Cancels the next sweep. */
  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.running = false;
  }

  private sweep(): void {
    this.timer = null;
    this.running = false;
    const now = Date.now();
    const expired: MemoryDelivery[] = [];
    for (const member of this.members) {
      for (const delivery of member.inflight) if (delivery.deadline <= now) expired.push(delivery);
    }
    // Taken back after the scan: aborting a signal runs user code, which may settle other deliveries.
    for (const delivery of expired) delivery.queue.takeBack(delivery, leaseExpired(delivery));
    for (const member of this.members) {
      if (member.inflight.length > 0) {
        this.start();
        return;
      }
    }
  }
}

function leaseExpired(delivery: MemoryDelivery): TransportError {
  const { message, attempt, member } = delivery;
  return new TransportError(
    'memory',
    `the lease on message "${message.id}" (topic "${message.topic}", attempt ${attempt}) expired after ${member?.visibilityTimeoutMs} ms without ack, nack or deadLetter, so it was taken back. Settle deliveries sooner or raise visibilityTimeoutMs.`,
  );
}

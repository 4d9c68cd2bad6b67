import { TransportError } from '../../errors';
import type { Delivery } from '../transport';
import type { ConsumerQueue } from './consumer-queue';
import type { MemoryDelivery } from './delivery';
import type { SubscriptionSpec } from './options';

/**
 * One live subscriber of a consumer queue: its own filter, its handler, and what it holds in flight.
 *
 * @example
 * ```ts
 * const member = new Member(queue, resolveSubscribeOptions({ topics: ['a'] }), (delivery) => delivery.ack());
 * ```
 */
export class Member {
  readonly queue: ConsumerQueue;
  readonly handler: (delivery: Delivery) => void | Promise<void>;
  readonly concurrency: number;
  readonly visibilityTimeoutMs: number;
  /** Exact topics asked for, or `null`. */
  readonly topics: ReadonlySet<string> | null;
  /** The pattern asked for, if any. */
  readonly pattern: string | undefined;
  private readonly match: ((topic: string) => boolean) | null;
  /** True when this member's filter accepts everything its queue holds, so dispatch can skip the check. */
  covers = false;
  /** False once `close()` was called: no new deliveries. */
  active = true;
  /** Unsettled deliveries (unordered; each knows its slot). */
  readonly inflight: MemoryDelivery[] = [];
  /** Called when a closing member's last in-flight delivery is settled or taken back. */
  onIdle: (() => void) | null = null;

  constructor(
    queue: ConsumerQueue,
    spec: SubscriptionSpec,
    handler: (delivery: Delivery) => void | Promise<void>,
  ) {
    this.queue = queue;
    this.handler = handler;
    this.concurrency = spec.concurrency;
    this.visibilityTimeoutMs = spec.visibilityTimeoutMs;
    this.topics = spec.topics;
    this.pattern = spec.pattern;
    this.match = spec.match;
  }

  /** Whether this member's own filter accepts `topic`. */
  matches(topic: string): boolean {
    return this.topics?.has(topic) === true || this.match?.(topic) === true;
  }

  /**
   * For a closing member: waits up to `timeoutMs` for its in-flight deliveries to settle, then takes back the
   * rest (their signals abort; group messages are redelivered, a group-less subscriber's are dropped).
   */
  async finish(timeoutMs: number): Promise<void> {
    if (this.inflight.length > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.onIdle = null;
          resolve();
        }, timeoutMs);
        this.onIdle = () => {
          clearTimeout(timer);
          this.onIdle = null;
          resolve();
        };
      });
    }
    const left = [...this.inflight];
    if (left.length === 0) return;
    const fate = this.queue.name === undefined ? 'dropped' : 'left for redelivery';
    const reason = new TransportError(
      'memory',
      `a subscription closed with ${left.length} unsettled deliveries after waiting ${timeoutMs} ms; they were taken back and ${fate}`,
    );
    for (const delivery of left) this.queue.takeBack(delivery, reason);
  }
}

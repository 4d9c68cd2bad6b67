import { DeliveryState, KitDelivery } from '../../transport-kit/delivery';
import type { DeadLetterInput, TransportMessage } from '../transport';
import type { ConsumerQueue } from './consumer-queue';
import type { Member } from './member';

export { DeliveryState };

/**
 * One attempt to deliver one message to one consumer queue. The same object is queued, handed to the handler
 * and settled; a redelivery is a new object with `attempt + 1`, so calls on an old one are recognisably stale.
 *
 * @example
 * ```ts
 * const delivery = new MemoryDelivery(message, queue, 1, 0);
 * ```
 */
export class MemoryDelivery extends KitDelivery {
  /** The group (or group-less subscriber) this delivery belongs to. */
  readonly queue: ConsumerQueue;
  /** The member it was handed to, once in flight. */
  member: Member | null = null;
  /** Index in the member's in-flight array. */
  slot = -1;
  /** When a delayed delivery becomes due (epoch ms). */
  dueAt = 0;
  /** Tie-breaker in the delay heap. */
  seq = 0;

  constructor(message: TransportMessage, queue: ConsumerQueue, attempt: number, firstAttemptAt: number) {
    super(message, attempt, firstAttemptAt, DeliveryState.QUEUED);
    this.queue = queue;
  }

  protected settleAck(): void {
    this.queue.ack(this);
  }

  protected settleNack(delayMs: number): void {
    this.queue.nack(this, delayMs);
  }

  protected settleDeadLetter(input: DeadLetterInput): void {
    this.queue.deadLetter(this, input);
  }

  /** The next attempt at the same message. */
  retry(): MemoryDelivery {
    return new MemoryDelivery(this.message, this.queue, this.attempt + 1, this.firstAttemptAt);
  }
}

import { InvalidOptionError } from '../../errors';
import type { DeadLetterInput, Delivery, TransportMessage } from '../transport';
import type { ConsumerQueue } from './consumer-queue';
import type { Member } from './member';

/**
 * The life of a {@link MemoryDelivery}: `QUEUED` (waiting, or delayed), `IN_FLIGHT` (handed out, unsettled),
 * `DONE` (settled, taken back or discarded: every further call on it is a no-op).
 *
 * @example
 * ```ts
 * if (delivery.state === DeliveryState.IN_FLIGHT) delivery.ack();
 * ```
 */
export const DeliveryState = { QUEUED: 0, IN_FLIGHT: 1, DONE: 2 } as const;

const { QUEUED, IN_FLIGHT } = DeliveryState;

/**
 * One attempt to deliver one message to one consumer queue. The same object is queued, handed to the handler
 * and settled; a redelivery is a new object with `attempt + 1`, so calls on an old one are recognisably stale.
 *
 * @example
 * ```ts
 * const delivery = new MemoryDelivery(message, queue, 1, 0);
 * ```
 */
export class MemoryDelivery implements Delivery {
  readonly message: TransportMessage;
  readonly attempt: number;
  firstAttemptAt: number;
  /** The message's ordering key, read once. */
  readonly key: string | undefined;
  /** The group (or group-less subscriber) this delivery belongs to. */
  readonly queue: ConsumerQueue;
  /** The member it was handed to, once in flight. */
  member: Member | null = null;
  state: number = QUEUED;
  /** When this attempt was handed out (epoch ms). */
  dispatchedAt = 0;
  /** When its lease expires (epoch ms). */
  deadline = 0;
  /** Index in the member's in-flight array. */
  slot = -1;
  /** When a delayed delivery becomes due (epoch ms). */
  dueAt = 0;
  /** Tie-breaker in the delay heap. */
  seq = 0;
  private controller: AbortController | null = null;
  private abortReason: unknown = undefined;

  constructor(message: TransportMessage, queue: ConsumerQueue, attempt: number, firstAttemptAt: number) {
    this.message = message;
    this.key = message.key;
    this.queue = queue;
    this.attempt = attempt;
    this.firstAttemptAt = firstAttemptAt;
  }

  /** Created on first read: most handlers never look at it. */
  get signal(): AbortSignal {
    if (this.controller === null) {
      this.controller = new AbortController();
      if (this.abortReason !== undefined) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  ack(): void {
    if (this.state === IN_FLIGHT) this.queue.ack(this);
  }

  nack(options?: { readonly delayMs?: number }): void {
    if (this.state !== IN_FLIGHT) return;
    const delayMs = options?.delayMs ?? 0;
    if (typeof delayMs !== 'number' || !Number.isFinite(delayMs) || delayMs < 0) {
      throw new InvalidOptionError(
        'delivery.nack()',
        'delayMs',
        `must be a finite number >= 0, got ${String(delayMs)}`,
      );
    }
    this.queue.nack(this, delayMs);
  }

  deadLetter(input: DeadLetterInput): void {
    if (this.state === IN_FLIGHT) this.queue.deadLetter(this, input);
  }

  /** The next attempt at the same message. */
  retry(): MemoryDelivery {
    return new MemoryDelivery(this.message, this.queue, this.attempt + 1, this.firstAttemptAt);
  }

  /** Aborts `signal` (now, or on its first read). */
  abort(reason: Error): void {
    if (this.abortReason !== undefined) return;
    this.abortReason = reason;
    this.controller?.abort(reason);
  }
}

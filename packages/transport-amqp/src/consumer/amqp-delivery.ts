import type { DeadLetterInput, TransportMessage } from '@relaybus/core';
import {
  DeliveryState,
  type DeliveryStateValue,
  type KeyedDispatcher,
  KitDelivery,
} from '@relaybus/core/transport-kit';
import type { Channel, Message } from 'amqplib';

/** One consumer channel of a subscription and what hands its deliveries out; replaced after a reconnect. */
export interface Lane {
  readonly channel: Channel;
  readonly dispatcher: KeyedDispatcher<AmqpDelivery>;
  /** False once the channel closed or the subscription stopped using it: its delivery tags are void. */
  live: boolean;
}

/** What settling a delivery does on the broker (the subscription). */
export interface Settler {
  ack(delivery: AmqpDelivery): void;
  nack(delivery: AmqpDelivery, delayMs: number): void | Promise<void>;
  deadLetter(delivery: AmqpDelivery, input: DeadLetterInput): Promise<void>;
}

/**
 * A delivery from an AMQP queue. Retrying at once (a nack without delay, an expired visibility timeout) hands the
 * same broker message out again as {@link AmqpDelivery.next}, still unacknowledged: the broker only takes it back
 * when the channel closes (a crash, a close), so a retry keeps its place before later messages of its key.
 */
export class AmqpDelivery extends KitDelivery {
  /** The broker's message (its delivery tag belongs to `lane`'s channel). */
  readonly raw: Message;
  /** The queue it came from, where retries go back to. */
  readonly queue: string;
  readonly lane: Lane;
  readonly #settler: Settler;

  constructor(
    message: TransportMessage,
    attempt: number,
    firstAttemptAt: number,
    source: { readonly raw: Message; readonly queue: string; readonly lane: Lane; readonly settler: Settler },
    state: DeliveryStateValue = DeliveryState.QUEUED,
  ) {
    super(message, attempt, firstAttemptAt, state);
    this.raw = source.raw;
    this.queue = source.queue;
    this.lane = source.lane;
    this.#settler = source.settler;
  }

  /** The next attempt of the same broker message. */
  next(): AmqpDelivery {
    const { raw, queue, lane } = this;
    return new AmqpDelivery(this.message, this.attempt + 1, this.firstAttemptAt, {
      raw,
      queue,
      lane,
      settler: this.#settler,
    });
  }

  protected settleAck(): void {
    this.#settler.ack(this);
  }

  protected settleNack(delayMs: number): void | Promise<void> {
    return this.#settler.nack(this, delayMs);
  }

  protected settleDeadLetter(input: DeadLetterInput): Promise<void> {
    return this.#settler.deadLetter(this, input);
  }
}

import type { JsMsg } from '@nats-io/jetstream';
import type { DeadLetterInput, TransportMessage } from '@relaybus/core';
import { DeliveryState, KitDelivery } from '@relaybus/core/transport-kit';

/** What settles a {@link NatsDelivery}: its subscription. */
export interface DeliveryOwner {
  ack(delivery: NatsDelivery): Promise<void>;
  nack(delivery: NatsDelivery, delayMs: number): Promise<void>;
  deadLetter(delivery: NatsDelivery, input: DeadLetterInput): Promise<void>;
}

/**
 * One delivery of a JetStream message to a subscription. For a group it holds the message until settled (ack,
 * `nak(delay)`, or dead-letter then ack); a group-less subscriber's ordered consumer needs no ack, so its nacks
 * are redelivered in the process as a new delivery with `attempt + 1`.
 */
export class NatsDelivery extends KitDelivery {
  readonly raw: JsMsg;
  readonly #owner: DeliveryOwner;

  constructor(
    message: TransportMessage,
    attempt: number,
    firstAttemptAt: number,
    raw: JsMsg,
    owner: DeliveryOwner,
  ) {
    super(message, attempt, firstAttemptAt, DeliveryState.QUEUED);
    this.raw = raw;
    this.#owner = owner;
  }

  protected settleAck(): Promise<void> {
    return this.#owner.ack(this);
  }

  protected settleNack(delayMs: number): Promise<void> {
    return this.#owner.nack(this, delayMs);
  }

  protected settleDeadLetter(input: DeadLetterInput): Promise<void> {
    return this.#owner.deadLetter(this, input);
  }

  /** The next attempt at the same message, for a redelivery in the process. */
  retry(): NatsDelivery {
    return new NatsDelivery(this.message, this.attempt + 1, this.firstAttemptAt, this.raw, this.#owner);
  }
}

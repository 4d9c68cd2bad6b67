import type { DeadLetterInput } from '@relaybus/core';
import { KitDelivery } from '@relaybus/core/transport-kit';
import type { Item } from './partition';

/** What settles a delivery in Redis. */
export interface Settler {
  ack(delivery: RedisDelivery): Promise<void>;
  nack(delivery: RedisDelivery, delayMs: number): Promise<void>;
  deadLetter(delivery: RedisDelivery, input: DeadLetterInput): Promise<void>;
}

/**
 * One attempt to hand one stream entry to a handler. Settling it a second time, or after it expired or its
 * subscription closed, does nothing: a redelivery is a new object, so calls on an old one are recognisably stale.
 */
export class RedisDelivery extends KitDelivery {
  readonly item: Item;
  readonly #settler: Settler;

  constructor(item: Item, settler: Settler, now: number, visibilityTimeoutMs: number) {
    super(item.message, item.attempt, item.firstAttemptAt);
    this.item = item;
    this.#settler = settler;
    this.start(now, visibilityTimeoutMs);
  }

  protected settleAck(): Promise<void> {
    return this.#settler.ack(this);
  }

  protected settleNack(delayMs: number): Promise<void> {
    return this.#settler.nack(this, delayMs);
  }

  protected settleDeadLetter(input: DeadLetterInput): Promise<void> {
    return this.#settler.deadLetter(this, input);
  }
}

import {
  type DeadLetterInput,
  type Delivery,
  InvalidOptionError,
  type TransportMessage,
} from '@relaybus/core';
import type { Item } from './partition';

/** What settles a delivery in Redis. */
export interface Settler {
  ack(delivery: RedisDelivery): Promise<void>;
  nack(delivery: RedisDelivery, delayMs: number): Promise<void>;
  deadLetter(delivery: RedisDelivery, input: DeadLetterInput): Promise<void>;
}

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * One attempt to hand one stream entry to a handler. Settling it a second time, or after it expired or its
 * subscription closed, does nothing: a redelivery is a new object, so calls on an old one are recognisably stale.
 */
export class RedisDelivery implements Delivery {
  readonly item: Item;
  readonly message: TransportMessage;
  readonly attempt: number;
  readonly firstAttemptAt: number;
  /** When the visibility timeout runs out (epoch ms). */
  readonly deadline: number;
  /** When it was handed out (epoch ms). */
  readonly startedAt: number;
  /** False once settled, expired or taken back. */
  inFlight = true;
  readonly #settler: Settler;
  #controller: AbortController | null = null;
  #abortReason: unknown;

  constructor(item: Item, settler: Settler, now: number, visibilityTimeoutMs: number) {
    this.item = item;
    this.message = item.message;
    this.attempt = item.attempt;
    this.firstAttemptAt = item.firstAttemptAt === 0 ? now : item.firstAttemptAt;
    this.startedAt = now;
    this.deadline = now + visibilityTimeoutMs;
    this.#settler = settler;
  }

  /** Created on first read: most handlers never look at it. */
  get signal(): AbortSignal {
    if (this.#controller === null) {
      this.#controller = new AbortController();
      if (this.#abortReason !== undefined) this.#controller.abort(this.#abortReason);
    }
    return this.#controller.signal;
  }

  ack(): Promise<void> {
    if (!this.inFlight) return RESOLVED;
    this.inFlight = false;
    return this.#settler.ack(this);
  }

  nack(options?: { readonly delayMs?: number }): Promise<void> {
    const delayMs = options?.delayMs ?? 0;
    if (typeof delayMs !== 'number' || !Number.isFinite(delayMs) || delayMs < 0) {
      return Promise.reject(
        new InvalidOptionError(
          'delivery.nack()',
          'delayMs',
          `must be a finite number >= 0, got ${String(delayMs)}`,
        ),
      );
    }
    if (!this.inFlight) return RESOLVED;
    this.inFlight = false;
    return this.#settler.nack(this, delayMs);
  }

  deadLetter(input: DeadLetterInput): Promise<void> {
    if (!this.inFlight) return RESOLVED;
    this.inFlight = false;
    return this.#settler.deadLetter(this, input);
  }

  /** Aborts `signal` (now, or on its first read). */
  abort(reason: Error): void {
    if (this.#abortReason !== undefined) return;
    this.#abortReason = reason;
    this.#controller?.abort(reason);
  }
}

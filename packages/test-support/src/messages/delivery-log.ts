import type { Delivery } from '@relaybus/core';

/** One delivery as a {@link DeliveryLog} saw it. */
export interface LoggedDelivery {
  readonly id: string;
  readonly key: string | undefined;
  readonly attempt: number;
  /** When it reached the handler, `Date.now()`. */
  readonly at: number;
}

/**
 * Records what a handler received: every delivery in order, and how often each id came.
 *
 * @example
 * ```ts
 * const log = new DeliveryLog();
 * await transport.subscribe({ topics: ['t'], group: 'g' }, log.acking);
 * await waitFor(() => log.missing(ids).length === 0, { message: 'every message' });
 * ```
 */
export class DeliveryLog {
  readonly deliveries: LoggedDelivery[] = [];
  readonly #counts = new Map<string, number>();

  /** Records `delivery` without settling it. */
  record(delivery: Delivery): void {
    const { id, key } = delivery.message;
    this.deliveries.push({ id, key, attempt: delivery.attempt, at: Date.now() });
    this.#counts.set(id, (this.#counts.get(id) ?? 0) + 1);
  }

  /** A handler that records and acks. */
  readonly acking = async (delivery: Delivery): Promise<void> => {
    this.record(delivery);
    await delivery.ack();
  };

  /** Whether `id` was received at least once. */
  has(id: string): boolean {
    return this.#counts.has(id);
  }

  /** Distinct ids received. */
  get distinct(): number {
    return this.#counts.size;
  }

  /** Deliveries beyond the first of each id. */
  get duplicates(): number {
    return this.deliveries.length - this.#counts.size;
  }

  /** Ids of `expected` not received yet. */
  missing(expected: Iterable<string>): string[] {
    return [...expected].filter((id) => !this.#counts.has(id));
  }
}

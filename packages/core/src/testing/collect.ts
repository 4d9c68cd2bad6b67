import type {
  Delivery,
  Transport,
  TransportSubscribeOptions,
  TransportSubscription,
} from '../transport/transport';
import { waitFor } from './wait-for';

/**
 * One delivery recorded by {@link collect}, with the moment the handler was called.
 *
 * @example
 * ```ts
 * const { delivery, receivedAt } = collector.received[0]!;
 * ```
 */
export interface CollectedDelivery {
  /** The delivery as the transport handed it over. */
  readonly delivery: Delivery;
  /** When the handler was called (epoch milliseconds). */
  readonly receivedAt: number;
}

/**
 * How {@link collect} handles what it records.
 *
 * @example
 * ```ts
 * const options: CollectOptions = { handle: (delivery) => delivery.nack() };
 * ```
 */
export interface CollectOptions {
  /**
   * Called after each delivery is recorded; it must settle the delivery.
   * @defaultValue acks every delivery
   */
  readonly handle?: (delivery: Delivery) => void | Promise<void>;
  /**
   * Default bound of {@link Collector.waitForCount}, in milliseconds.
   * @defaultValue 5000
   */
  readonly timeoutMs?: number;
}

/**
 * A subscription that records every delivery it receives, in arrival order. Close it (or let the transport close
 * it) when done.
 *
 * @example
 * ```ts
 * await using collector = await collect(transport, { topics: ['task.created'] });
 * await collector.waitForCount(2);
 * ```
 */
export interface Collector extends AsyncDisposable {
  /** Every delivery so far, redeliveries included, in arrival order. */
  readonly received: ReadonlyArray<CollectedDelivery>;
  /** The underlying subscription. */
  readonly subscription: TransportSubscription;
  /** Message ids in arrival order, redeliveries included. */
  ids(): string[];
  /** Waits until at least `count` deliveries arrived; fails naming how many did. */
  waitForCount(
    count: number,
    options?: { readonly timeoutMs?: number; readonly message?: string },
  ): Promise<void>;
  /** Closes the subscription. */
  close(options?: { readonly timeoutMs?: number }): Promise<void>;
}

/**
 * Subscribes to a transport and records every delivery, acking each one unless `handle` says otherwise.
 *
 * @example
 * ```ts
 * const collector = await collect(transport, { topics: ['task.created'], group: 'audit' });
 * await transport.publish([{ id: '1', topic: 'task.created', body: {} }]);
 * await collector.waitForCount(1);
 * expect(collector.ids()).toEqual(['1']);
 * await collector.close();
 * ```
 */
export async function collect(
  transport: Transport,
  options: TransportSubscribeOptions,
  collectOptions: CollectOptions = {},
): Promise<Collector> {
  const received: CollectedDelivery[] = [];
  const handle = collectOptions.handle ?? ((delivery: Delivery) => delivery.ack());
  const subscription = await transport.subscribe(options, (delivery) => {
    received.push({ delivery, receivedAt: Date.now() });
    return handle(delivery);
  });
  const what = describeSubscription(options);
  return {
    received,
    subscription,
    ids: () => received.map((entry) => entry.delivery.message.id),
    waitForCount: (count, waitOptions = {}) =>
      waitFor(() => received.length >= count, {
        timeoutMs: waitOptions.timeoutMs ?? collectOptions.timeoutMs ?? 5_000,
        message: () =>
          `${waitOptions.message ?? `${count} deliveries`} on ${what} (got ${received.length}: ${preview(received)})`,
      }),
    close: (closeOptions) => subscription.close(closeOptions),
    [Symbol.asyncDispose]: () => subscription.close(),
  };
}

function describeSubscription(options: TransportSubscribeOptions): string {
  const parts = [
    options.topics === undefined ? undefined : `topics [${options.topics.join(', ')}]`,
    options.pattern === undefined ? undefined : `pattern "${options.pattern}"`,
    options.group === undefined ? 'no group' : `group "${options.group}"`,
  ];
  return `subscriber (${parts.filter((part) => part !== undefined).join(', ')})`;
}

function preview(received: ReadonlyArray<CollectedDelivery>): string {
  const ids = received.slice(0, 10).map((entry) => entry.delivery.message.id);
  return received.length > 10 ? `${ids.join(', ')}, ...` : ids.join(', ') || 'none';
}

import type { TransportSubscription } from '../transport/transport';
import { Closer } from './closer';

/**
 * Options of a {@link SubscriptionHandle}.
 *
 * @example
 * ```ts
 * const options: SubscriptionHandleOptions = { where: 'subscription.close()', close: (timeoutMs) => shutdown(timeoutMs) };
 * ```
 */
export interface SubscriptionHandleOptions {
  /**
   * Named in the error for a bad `timeoutMs`.
   * @defaultValue 'subscription.close()'
   */
  readonly where?: string;
  /**
   * Used when `close()` is called without `timeoutMs`.
   * @defaultValue 10000
   */
  readonly defaultTimeoutMs?: number;
  /**
   * Closes the subscription: stop taking deliveries, wait up to `timeoutMs` for in-flight ones, take back the rest.
   * Called at most once.
   */
  readonly close: (timeoutMs: number) => Promise<void>;
  /** The subscribe call's `signal`: aborting it closes the subscription (at once, if it already has). */
  readonly signal?: AbortSignal;
}

/**
 * The handle a transport's `subscribe()` returns, minus the broker: a {@link Closer} (one shared `close`, `timeoutMs`
 * checked before anything changes, closes when the subscribe `signal` aborts) that `await using` closes too.
 *
 * @example
 * ```ts
 * import { SubscriptionHandle } from '@relaybus/core/transport-kit';
 *
 * return new SubscriptionHandle({ close: (timeoutMs) => consumer.shutdown(timeoutMs), signal: options.signal });
 * ```
 */
export class SubscriptionHandle implements TransportSubscription {
  readonly #closer: Closer;

  constructor(options: SubscriptionHandleOptions) {
    this.#closer = new Closer({ ...options, where: options.where ?? 'subscription.close()' });
  }

  /** Whether `close()` was called (or the signal aborted). */
  get closed(): boolean {
    return this.#closer.closed;
  }

  close(options?: { readonly timeoutMs?: number }): Promise<void> {
    return this.#closer.close(options);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

import { InvalidOptionError } from '../errors';
import type { TransportSubscription } from '../transport/transport';

/**
 * Options of a {@link SubscriptionHandle}.
 *
 * @example
 * ```ts
 * const options: SubscriptionHandleOptions = { where: 'subscription.close()', close: (timeoutMs) => shutdown(timeoutMs) };
 * ```
 */
export interface SubscriptionHandleOptions {
  /** Named in the error for a bad `timeoutMs`, such as `subscription.close()`. */
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
 * The handle a transport's `subscribe()` returns, minus the broker: concurrent and repeated `close()` calls share
 * one promise, `timeoutMs` is checked before anything changes (a bad value rejects with `InvalidOptionError` and the
 * subscription stays open), aborting the subscribe `signal` closes it, and `await using` closes it too.
 *
 * @example
 * ```ts
 * import { SubscriptionHandle } from '@relaybus/core/transport-kit';
 *
 * return new SubscriptionHandle({ close: (timeoutMs) => consumer.shutdown(timeoutMs), signal: options.signal });
 * ```
 */
export class SubscriptionHandle implements TransportSubscription {
  readonly #options: SubscriptionHandleOptions;
  #closing: Promise<void> | null = null;
  readonly #onAbort = (): void => {
    void this.close().catch(() => undefined);
  };

  constructor(options: SubscriptionHandleOptions) {
    this.#options = options;
    const { signal } = options;
    if (signal === undefined) return;
    if (signal.aborted) this.#onAbort();
    else signal.addEventListener('abort', this.#onAbort, { once: true });
  }

  /** Whether `close()` was called (or the signal aborted). */
  get closed(): boolean {
    return this.#closing !== null;
  }

  close(options?: { readonly timeoutMs?: number }): Promise<void> {
    if (this.#closing !== null) return this.#closing;
    const timeoutMs = options?.timeoutMs ?? this.#options.defaultTimeoutMs ?? 10_000;
    if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs < 0) {
      return Promise.reject(
        new InvalidOptionError(
          this.#options.where ?? 'subscription.close()',
          'timeoutMs',
          `must be a finite number of milliseconds >= 0, got ${String(timeoutMs)}`,
        ),
      );
    }
    this.#options.signal?.removeEventListener('abort', this.#onAbort);
    this.#closing = this.#options.close(timeoutMs);
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

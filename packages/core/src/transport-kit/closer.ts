import { InvalidOptionError } from '../errors';

/**
 * Options of a {@link Closer}.
 *
 * @example
 * ```ts
 * const options: CloserOptions = { where: 'amqpTransport.close()', close: (timeoutMs) => shutdown(timeoutMs) };
 * ```
 */
export interface CloserOptions {
  /** Named in the error for a bad `timeoutMs`, such as `amqpTransport.close()`. */
  readonly where: string;
  /**
   * Used when `close()` is called without `timeoutMs`.
   * @defaultValue 10000
   */
  readonly defaultTimeoutMs?: number;
  /** Does the closing, with the checked timeout. Called at most once. */
  readonly close: (timeoutMs: number) => Promise<void>;
  /** Aborting it closes (at once, if it already has). */
  readonly signal?: AbortSignal | undefined;
}

/**
 * The close of a transport or a subscription, minus what closing means: concurrent and repeated `close()` calls share
 * one promise, `timeoutMs` is checked before anything changes (a bad value rejects with `InvalidOptionError` and the
 * object stays open), and aborting `signal` closes it.
 *
 * @example
 * ```ts
 * import { Closer } from '@relaybus/core/transport-kit';
 *
 * class QueueTransport {
 *   readonly #closer = new Closer({ where: 'queueTransport.close()', close: (t) => this.#shutdown(t), signal });
 *   close(options?: { readonly timeoutMs?: number }): Promise<void> {
 *     return this.#closer.close(options);
 *   }
 * }
 * ```
 */
export class Closer {
  readonly #options: CloserOptions;
  #closing: Promise<void> | null = null;
  readonly #onAbort = (): void => {
    void this.close().catch(() => undefined);
  };

  constructor(options: CloserOptions) {
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

  /** Closes once; later calls return the same promise. */
  close(options?: { readonly timeoutMs?: number }): Promise<void> {
    if (this.#closing !== null) return this.#closing;
    const timeoutMs = options?.timeoutMs ?? this.#options.defaultTimeoutMs ?? 10_000;
    if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs < 0) {
      return Promise.reject(
        new InvalidOptionError(
          this.#options.where,
          'timeoutMs',
          `must be a finite number of milliseconds >= 0, got ${String(timeoutMs)}`,
        ),
      );
    }
    this.#options.signal?.removeEventListener('abort', this.#onAbort);
    this.#closing = this.#options.close(timeoutMs);
    return this.#closing;
  }
}

import type { TransportSubscription } from '../transport';
import { DEFAULTS, resolveDuration } from './options';

/**
 * Closes one member of the transport: stop handing it work, wait up to `timeoutMs` for its in-flight deliveries,
 * then take back what is left.
 *
 * @example
 * ```ts
 * const closeMember: CloseMember = (timeoutMs) => transport.closeMember(member, timeoutMs);
 * ```
 */
export type CloseMember = (timeoutMs: number) => Promise<void>;

/**
 * The handle returned by the memory transport's `subscribe()`. Concurrent and repeated `close()` calls share
 * one promise; aborting the subscribe `signal` closes it too.
 *
 * @example
 * ```ts
 * await using subscription = new MemorySubscription(closeMember);
 * subscription.closeOnAbort(options.signal);
 * ```
 */
export class MemorySubscription implements TransportSubscription {
  private closing: Promise<void> | null = null;
  private readonly closeMember: CloseMember;
  private signal: AbortSignal | undefined;
  private readonly onAbort = (): void => {
    void this.close();
  };

  constructor(closeMember: CloseMember) {
    this.closeMember = closeMember;
  }

  /** Closes the subscription when `signal` aborts (at once, if it already has). */
  closeOnAbort(signal: AbortSignal | undefined): void {
    if (signal === undefined) return;
    this.signal = signal;
    if (signal.aborted) void this.close();
    else signal.addEventListener('abort', this.onAbort, { once: true });
  }

  close(options?: { readonly timeoutMs?: number }): Promise<void> {
    if (this.closing !== null) return this.closing;
    let timeoutMs: number;
    try {
      timeoutMs = resolveDuration(
        options?.timeoutMs,
        DEFAULTS.closeTimeoutMs,
        'subscription.close()',
        'timeoutMs',
      );
    } catch (error) {
      return Promise.reject(error);
    }
    this.signal?.removeEventListener('abort', this.onAbort);
    this.closing = this.closeMember(timeoutMs);
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

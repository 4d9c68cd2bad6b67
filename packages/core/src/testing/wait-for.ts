/**
 * Bounds and wording of a {@link waitFor} call.
 *
 * @example
 * ```ts
 * const options: WaitForOptions = { timeoutMs: 2_000, message: () => `${seen.size} of 100 messages received` };
 * ```
 */
export interface WaitForOptions {
  /**
   * Give up after this many milliseconds.
   * @defaultValue 5000
   */
  readonly timeoutMs?: number;
  /**
   * Check the predicate again after this many milliseconds.
   * @defaultValue 5
   */
  readonly intervalMs?: number;
  /**
   * What was awaited, used in the failure message. A function is called only on failure, so it can describe the
   * state at that moment (what is missing, what arrived instead).
   */
  readonly message: string | (() => string);
}

const DEFAULT_TIMEOUT_MS = 5_000;
const DEFAULT_INTERVAL_MS = 5;

/**
 * Waits until `predicate` returns `true`, checking every few milliseconds, and fails with a descriptive error when
 * it does not within `timeoutMs`. Resolves as soon as the condition holds, so a generous bound costs nothing when
 * the code under test is fast.
 *
 * @throws `Error` naming what was awaited and for how long, when the bound is reached; errors thrown by
 * `predicate` are passed on.
 * @example
 * ```ts
 * await waitFor(() => received.length === 3, {
 *   timeoutMs: 2_000,
 *   message: () => `3 deliveries (got ${received.length})`,
 * });
 * ```
 */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  options: WaitForOptions,
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() >= deadline) {
      const what = typeof options.message === 'function' ? options.message() : options.message;
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await sleep(Math.min(intervalMs, Math.max(1, deadline - Date.now())));
  }
}

/**
 * Resolves after `ms` milliseconds.
 *
 * @example
 * ```ts
 * await sleep(50);
 * ```
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

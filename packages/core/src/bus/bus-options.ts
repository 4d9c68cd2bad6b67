import { InvalidOptionError } from '../errors';
import { checkGroupName } from '../transport/subscribe-options';
import type { SubscribeOptions } from './types';

/** Every default of the bus, in one place. */
export const BUS_DEFAULTS = {
  /** A handler's time limit. */
  timeoutMs: 30_000,
  /** How much longer than `timeoutMs` a delivery's lease lasts, so a running handler keeps its event. */
  leaseMarginMs: 5_000,
  /** How long `close()` waits for running handlers. */
  closeTimeoutMs: 10_000,
} as const;

/** The limits of one subscription after validation. */
export interface ResolvedSubscribeOptions {
  readonly concurrency: number;
  readonly timeoutMs: number;
  readonly visibilityTimeoutMs: number;
}

/**
 * Validates subscribe options (or the bus's `defaults`, with `prefix` `defaults.`) and applies the defaults.
 *
 * @throws {@link InvalidOptionError} naming the option at fault.
 */
export function resolveSubscribeOptions(
  where: string,
  prefix: string,
  options: SubscribeOptions,
): ResolvedSubscribeOptions {
  const concurrency = options.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new InvalidOptionError(
      where,
      `${prefix}concurrency`,
      `must be an integer >= 1, got ${String(concurrency)}`,
    );
  }
  const timeoutMs = options.timeoutMs ?? BUS_DEFAULTS.timeoutMs;
  if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new InvalidOptionError(
      where,
      `${prefix}timeoutMs`,
      `must be a number of milliseconds > 0, got ${describe(timeoutMs)}`,
    );
  }
  const visibilityTimeoutMs = options.visibilityTimeoutMs ?? timeoutMs + BUS_DEFAULTS.leaseMarginMs;
  if (!Number.isFinite(visibilityTimeoutMs) || visibilityTimeoutMs <= timeoutMs) {
    throw new InvalidOptionError(
      where,
      `${prefix}visibilityTimeoutMs`,
      `(${visibilityTimeoutMs}) must be greater than timeoutMs (${timeoutMs}), or a running handler's event would be redelivered to another consumer`,
    );
  }
  if (options.group !== undefined) checkGroupName(where, `${prefix}group`, options.group);
  const { startFrom } = options;
  if (startFrom !== undefined && startFrom !== 'earliest' && startFrom !== 'latest') {
    throw new InvalidOptionError(
      where,
      `${prefix}startFrom`,
      `must be 'earliest' or 'latest', got ${describe(startFrom)}`,
    );
  }
  if (startFrom !== undefined && options.group === undefined && prefix === '') {
    throw new InvalidOptionError(
      where,
      'startFrom',
      'applies to consumer groups only: a subscriber without a group receives what is published after it subscribed',
    );
  }
  return { concurrency, timeoutMs, visibilityTimeoutMs };
}

/**
 * Validates the options of `close()` before anything is changed, so a bad call leaves the bus as it was.
 *
 * @throws {@link InvalidOptionError} naming `timeoutMs`.
 */
export function resolveCloseTimeout(where: string, options: unknown): number {
  if (options === undefined) return BUS_DEFAULTS.closeTimeoutMs;
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError(where, 'options', `must be an object such as { timeoutMs: 5000 }`);
  }
  const { timeoutMs } = options as { timeoutMs?: unknown };
  if (timeoutMs === undefined) return BUS_DEFAULTS.closeTimeoutMs;
  if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs < 0) {
    throw new InvalidOptionError(
      where,
      'timeoutMs',
      `must be a finite number of milliseconds >= 0, got ${describe(timeoutMs)}`,
    );
  }
  return timeoutMs;
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

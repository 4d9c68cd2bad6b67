import { consoleLogger, type Delivery, type Logger } from '@relaybus/core';
import type { IncompatibleClientError } from './errors';

/**
 * Reports a client the transport cannot read at error level and to `onError` (with no delivery), besides failing
 * whatever met it: the one failure that must never pass unnoticed, since retrying cannot help.
 */
export function reportIncompatible(
  options: {
    readonly logger: Logger | undefined;
    readonly onError: ((error: unknown, delivery: Delivery | undefined) => void) | undefined;
  },
  error: IncompatibleClientError,
  what: string,
): void {
  (options.logger ?? consoleLogger).error(
    `redis transport: ${what}: the client answers in a shape it cannot read`,
    { error },
  );
  try {
    options.onError?.(error, undefined);
  } catch {
    // A failing error reporter must not hide the error itself.
  }
}

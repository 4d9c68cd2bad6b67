/**
 * Calls a subscriber's handler with one delivery, without letting an error escape: a synchronous throw and a
 * rejected promise both reach `onError` (which typically nacks the delivery if it is still in flight and reports the
 * error). A handler that returns nothing, or a non-promise, is fine.
 *
 * @example
 * ```ts
 * import { invokeHandler } from '@relaybus/core/transport-kit';
 *
 * invokeHandler(handler, delivery, (error, failed) => {
 *   if (failed.inFlight) void failed.nack();
 *   logger.error('handler failed', { error });
 * });
 * ```
 */
export function invokeHandler<D>(
  handler: (delivery: D) => unknown,
  delivery: D,
  onError: (error: unknown, delivery: D) => void,
): void {
  let result: unknown;
  try {
    result = handler(delivery);
  } catch (error) {
    onError(error, delivery);
    return;
  }
  if (
    typeof result === 'object' &&
    result !== null &&
    typeof (result as PromiseLike<unknown>).then === 'function'
  ) {
    (result as PromiseLike<unknown>).then(undefined, (error: unknown) => onError(error, delivery));
  }
}

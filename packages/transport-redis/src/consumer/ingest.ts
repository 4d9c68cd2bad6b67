import type { Delivery } from '@relaybus/core';
import { invokeHandler as kitInvokeHandler } from '@relaybus/core/transport-kit';
import { decodeEntry, entryTime } from '../codec';
import { type ConsumerContext, isAddressedTo } from './consumer-context';
import type { Dispatcher } from './dispatcher';
import type { PartitionState } from './partition';
import type { RedisDelivery } from './redis-delivery';
import type { RedisSettler } from './settler';

/** A stream entry read or claimed from a partition, with how often it was delivered before. */
export interface RawEntry {
  readonly partition: PartitionState;
  readonly entryId: string;
  readonly fields: unknown;
  readonly deliveries: number;
}

/**
 * Turns a stream entry into a queued message: undecodable entries are dead-lettered (the consumer keeps going),
 * retries and redrives addressed to another group are acked and skipped, the rest go to the dispatcher with
 * their attempt number (the entry's base attempt plus earlier deliveries).
 */
export function ingestEntry(
  context: ConsumerContext,
  settler: RedisSettler,
  dispatcher: Dispatcher,
  { partition, entryId, fields, deliveries }: RawEntry,
): void {
  const decoded = decodeEntry(entryId, partition.topic, fields);
  if (!decoded.ok) {
    settler.reject(partition, entryId, decoded, deliveries + 1);
    return;
  }
  if (!isAddressedTo(decoded.group, context)) {
    settler.skip(partition, entryId);
    return;
  }
  dispatcher.accept({
    partition,
    entryId,
    message: decoded.message,
    bodyText: decoded.bodyText,
    baseAttempt: decoded.baseAttempt,
    attempt: decoded.baseAttempt + deliveries,
    firstAttemptAt: decoded.firstAttemptAt ?? (deliveries > 0 ? entryTime(entryId) : 0),
    nonce: decoded.nonce,
  });
}

/**
 * Calls the user's handler. A throw or rejection is reported to `onError`, then the delivery is nacked for
 * immediate redelivery unless the handler had settled it.
 */
export function invokeHandler(
  handler: (delivery: Delivery) => void | Promise<void>,
  delivery: RedisDelivery,
  onError: ((error: unknown, delivery: Delivery | undefined) => void) | undefined,
): void {
  kitInvokeHandler(handler, delivery, (error) => {
    try {
      onError?.(error, delivery);
    } catch {
      // A failing error reporter must not break delivery bookkeeping.
    }
    if (delivery.inFlight) void delivery.nack();
  });
}

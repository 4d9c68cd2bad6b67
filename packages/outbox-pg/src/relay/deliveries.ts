import type {
  OutboxJobReceiver,
  RelaybusErrorCode,
  StoredEvent,
  Transport,
  TransportMessage,
} from '@relaybus/core';
import { JOB_ENQUEUED_EVENT, RelaybusError } from '@relaybus/core';
import { UnknownJobQueueError } from '../errors';

/**
 * Where a relay delivers: jobs enqueued in a transaction to their queue, every other event to the transport.
 *
 * @example
 * ```ts
 * const destinations: Destinations = { transport, jobQueues: new Map([['default', jobs]]), acceptedAt: new Map() };
 * ```
 */
export interface Destinations {
  readonly transport: Transport;
  readonly jobQueues: ReadonlyMap<string, OutboxJobReceiver>;
  /**
   * When each destination ({@link destinationOf}) last accepted a delivery (epoch ms). An event that keeps failing
   * while its destination accepts others is poison; one that fails while its destination accepts nothing is
   * waiting out an outage.
   */
  readonly acceptedAt: Map<string, number>;
}

/** A job queue's refusals: the job will be refused the same way every time. */
const REFUSED: ReadonlyArray<RelaybusErrorCode> = ['INVALID_ENVELOPE', 'UNKNOWN_JOB', 'VALIDATION_FAILED'];

/** A destination that cannot be reached: waiting helps, parking does not. */
const UNREACHABLE: ReadonlyArray<RelaybusErrorCode> = ['TRANSPORT_UNAVAILABLE', 'STORE_UNAVAILABLE'];

/**
 * Whether the event is a job enqueued in a transaction (`JOB_ENQUEUED_EVENT`), which goes to its queue.
 *
 * @example
 * ```ts
 * const plain = events.filter((event) => !isJobEvent(event));
 * ```
 */
export function isJobEvent(event: { readonly type: string }): boolean {
  return event.type === JOB_ENQUEUED_EVENT;
}

/**
 * The destination of an event as a key of {@link Destinations.acceptedAt}: `transport`, or `queue:<name>`.
 *
 * @example
 * ```ts
 * destinations.acceptedAt.get(destinationOf(event));
 * ```
 */
export function destinationOf(event: StoredEvent): string {
  return isJobEvent(event) ? `queue:${String(queueOf(event))}` : 'transport';
}

/**
 * Publishes events to the transport in one call.
 *
 * @throws the transport's error.
 * @example
 * ```ts
 * await publish(destinations, events);
 * ```
 */
export async function publish(destinations: Destinations, events: ReadonlyArray<StoredEvent>): Promise<void> {
  await destinations.transport.publish(events.map(messageOf));
  destinations.acceptedAt.set('transport', Date.now());
}

/**
 * Hands a job event to the queue it names (`receiveFromOutbox`, which adds a job handed over twice once).
 *
 * @throws {@link UnknownJobQueueError} when the relay has no such queue; the queue's error when it refuses the job
 * or its backend fails.
 * @example
 * ```ts
 * await handOver(destinations, jobEvent);
 * ```
 */
export async function handOver(destinations: Destinations, event: StoredEvent): Promise<void> {
  const name = queueOf(event);
  const queue = typeof name === 'string' ? destinations.jobQueues.get(name) : undefined;
  if (queue === undefined) throw new UnknownJobQueueError(event.id, name, [...destinations.jobQueues.keys()]);
  await queue.receiveFromOutbox(event);
  destinations.acceptedAt.set(destinationOf(event), Date.now());
}

/**
 * Delivers one event: a job to its queue, anything else to the transport.
 *
 * @throws what {@link publish} or {@link handOver} throws.
 * @example
 * ```ts
 * await deliverOne(destinations, event);
 * ```
 */
export function deliverOne(destinations: Destinations, event: StoredEvent): Promise<void> {
  return isJobEvent(event) ? handOver(destinations, event) : publish(destinations, [event]);
}

/** How far {@link deliverInOrder} got: `delivered` events from the start; the next one failed with `error`. */
export type DeliveryOutcome =
  | { readonly delivered: number }
  | { readonly delivered: number; readonly error: unknown };

/**
 * Delivers a partition's events in log order: each run of plain events in one publish, each job on its own,
 * stopping at the first event that fails. A run whose publish fails is published again one event at a time, so
 * the failure is narrowed down to one event.
 *
 * @example
 * ```ts
 * const outcome = await deliverInOrder(destinations, events);
 * if ('error' in outcome) return failed(context, lease, owned, rows[outcome.delivered], outcome.error);
 * ```
 */
export async function deliverInOrder(
  destinations: Destinations,
  events: ReadonlyArray<StoredEvent>,
): Promise<DeliveryOutcome> {
  let delivered = 0;
  while (delivered < events.length) {
    const run = runAt(events, delivered);
    try {
      if (run.length === 0) await handOver(destinations, events[delivered] as StoredEvent);
      else await publish(destinations, run);
      delivered += Math.max(1, run.length);
      continue;
    } catch (error) {
      if (run.length <= 1) return { delivered, error };
    }
    for (const event of run) {
      try {
        await publish(destinations, [event]);
        delivered += 1;
      } catch (error) {
        return { delivered, error };
      }
    }
  }
  return { delivered };
}

/**
 * The plain events from `start` up to the next job event (empty when `start` is a job event).
 *
 * @example
 * ```ts
 * const run = runAt(events, 0);
 * ```
 */
export function runAt(events: ReadonlyArray<StoredEvent>, start: number): StoredEvent[] {
  let end = start;
  while (end < events.length && !isJobEvent(events[end] as StoredEvent)) end += 1;
  return events.slice(start, end);
}

/**
 * Whether a delivery error parks the event at once: `isPoison` says so, or a job queue refused the job
 * (`INVALID_ENVELOPE`, `UNKNOWN_JOB`, `VALIDATION_FAILED`: told apart by code).
 *
 * @example
 * ```ts
 * if (isFinal(error, event, context.isPoison)) await park(...);
 * ```
 */
export function isFinal(
  error: unknown,
  event: { readonly type: string },
  isPoison: (error: unknown) => boolean,
): boolean {
  return isPoison(error) || (isJobEvent(event) && REFUSED.some((code) => RelaybusError.is(error, code)));
}

/**
 * Whether a delivery error says the destination cannot be reached (`TRANSPORT_UNAVAILABLE`, `STORE_UNAVAILABLE`):
 * such an event is retried without end rather than parked after `retry.attempts`.
 *
 * @example
 * ```ts
 * const exhausted = !isUnreachable(error) && failures >= attempts;
 * ```
 */
export function isUnreachable(error: unknown): boolean {
  return UNREACHABLE.some((code) => RelaybusError.is(error, code));
}

/**
 * The transport message of a stored event: id, topic = type, key = the ordering key (the event's key, else its
 * stream), body = the stored envelope with position, stream and stream version.
 *
 * @example
 * ```ts
 * await transport.publish(events.map(messageOf));
 * ```
 */
export function messageOf(event: StoredEvent): TransportMessage {
  return { id: event.id, topic: event.type, key: event.key ?? event.stream, body: event };
}

/** The queue a job event names (`data.queue`), unchecked. */
function queueOf(event: StoredEvent): unknown {
  const data: unknown = event.data;
  return typeof data === 'object' && data !== null ? (data as { queue?: unknown }).queue : undefined;
}

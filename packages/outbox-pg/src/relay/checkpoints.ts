import type { Logger, RetryPolicy } from '@relaybus/core';
import { serializeError } from '@relaybus/core';
import type { EventRow } from '../rows';
import { storedEventOf } from '../rows';
import { run } from '../sql/query';
import type { Destinations } from './deliveries';
import { destinationOf, isFinal, isJobEvent, isUnreachable } from './deliveries';
import type { Lease, LeaseContext } from './leases';

/** What a step over a partition needs. */
export interface StepContext extends LeaseContext {
  readonly destinations: Destinations;
  readonly epoch: () => number;
  readonly retry: RetryPolicy;
  readonly crashLimit: number;
  readonly isPoison: (error: unknown) => boolean;
  readonly logger: Logger;
}

/** What a step did: delivered or parked something, found nothing, or is waiting to retry. */
export type StepResult = 'progress' | 'idle' | 'retry';

/** An event row as a partition read returns it. */
export interface PartitionRow extends EventRow {
  readonly event_id: string;
  readonly type: string;
  readonly key: string | null;
}

/**
 * Advances a partition's checkpoint to `position` with a compare-and-set on its lease row (owner, fencing token,
 * previous position); returns whether it still held the lease.
 *
 * @example
 * ```ts
 * if (!(await advance(context, lease, owned, last.position))) return 'progress'; // lease lost
 * ```
 */
export async function advance(
  context: StepContext,
  lease: Lease,
  owned: Map<number, Lease>,
  position: string | undefined,
): Promise<boolean> {
  if (position === undefined) return true;
  const rows = await run(context.pool, context.sql.advance, [
    ...casOf(context, lease),
    position,
    context.leaseTtlMs,
  ]);
  return settle(context, lease, owned, rows.length > 0, position);
}

/**
 * Applies the outcome of a checkpoint write to the lease in memory: moved to `position` with its retry and
 * in-flight state cleared, or, when the write found another owner, dropped from `owned`.
 *
 * @example
 * ```ts
 * settle(context, lease, owned, advancedPartitions.has(lease.partition), last);
 * ```
 */
export function settle(
  context: StepContext,
  lease: Lease,
  owned: Map<number, Lease>,
  advanced: boolean,
  position: string,
): boolean {
  if (!advanced) {
    lost(context, lease, owned);
    return false;
  }
  lease.position = position;
  lease.inFlight = undefined;
  lease.failures = 0;
  lease.failingEventId = undefined;
  lease.retryAt = 0;
  return true;
}

/**
 * The parameters `$1`-`$5` of a compare-and-set on a lease row: relay, owner, partition, fencing token and the
 * checkpoint the write expects.
 */
function casOf(context: StepContext, lease: Lease): unknown[] {
  return [context.relay, context.owner, lease.partition, lease.token, lease.position];
}

/** Another instance holds the partition now (its token differs): it resumes from the stored checkpoint. */
function lost(context: StepContext, lease: Lease, owned: Map<number, Lease>): void {
  if (owned.get(lease.partition) === lease) owned.delete(lease.partition);
  context.logger.warn('outbox relay: lost a partition lease; another instance continues it', {
    relay: context.relay,
    partition: lease.partition,
  });
}

/**
 * Records in the lease row that `eventId` is being published and how many of its publishes were started and not
 * finished, so that the next owner, should this instance die now, counts the crash against this event alone.
 * Returns whether it still held the lease.
 *
 * @example
 * ```ts
 * if (!(await markInFlight(context, lease, owned, row.event_id, crashes + 1))) return 'progress';
 * ```
 */
export async function markInFlight(
  context: StepContext,
  lease: Lease,
  owned: Map<number, Lease>,
  eventId: string,
  attempts: number,
): Promise<boolean> {
  const rows = await run(context.pool, context.sql.markInFlight, [
    ...casOf(context, lease),
    eventId,
    attempts,
  ]);
  if (rows.length === 0) {
    lost(context, lease, owned);
    return false;
  }
  lease.inFlight = { eventId, attempts };
  return true;
}

/**
 * Handles a failed delivery of `row`: parks it when the error is final ({@link isFinal}), or when it failed
 * `retry.attempts` times while its destination (the transport, or its job queue) accepted other events meanwhile;
 * otherwise schedules a retry after the backoff. A destination that is down (it fails everything, or says it
 * cannot be reached) is retried without end.
 *
 * @example
 * ```ts
 * return failed(context, lease, owned, row, error);
 * ```
 */
export async function failed(
  context: StepContext,
  lease: Lease,
  owned: Map<number, Lease>,
  row: PartitionRow,
  error: unknown,
): Promise<StepResult> {
  if (lease.failingEventId !== row.event_id) {
    lease.failingEventId = row.event_id;
    lease.failures = 0;
    lease.firstFailureAt = Date.now();
  }
  lease.failures += 1;
  const acceptedAt = context.destinations.acceptedAt.get(destinationOf(storedEventOf(row))) ?? 0;
  const exhausted = lease.failures >= context.retry.attempts && acceptedAt > lease.firstFailureAt;
  if (isFinal(error, row, context.isPoison) || (exhausted && !isUnreachable(error))) {
    await park(context, lease, owned, row, error, lease.failures);
    return 'progress';
  }
  lease.retryAt = Date.now() + context.retry.delayMs(lease.failures, asError(error));
  const what = isJobEvent(row) ? 'handing a job to its queue' : 'publishing';
  context.logger.warn(`outbox relay: ${what} failed; retrying`, {
    relay: context.relay,
    partition: lease.partition,
    eventId: row.event_id,
    attempt: lease.failures,
    error,
  });
  return 'retry';
}

/**
 * Parks `row` in `relay_dead_letters` with its error and attempts, and advances the checkpoint past it in the same
 * statement (a compare-and-set, like `advance`), so the partition moves on.
 *
 * @example
 * ```ts
 * await park(context, lease, owned, row, new Error('crash loop'), crashes);
 * ```
 */
export async function park(
  context: StepContext,
  lease: Lease,
  owned: Map<number, Lease>,
  row: PartitionRow,
  error: unknown,
  attempts: number,
): Promise<void> {
  const event = storedEventOf(row);
  const rows = await run(context.pool, context.sql.park, [
    ...casOf(context, lease),
    event.position,
    context.leaseTtlMs,
    row.event_id,
    row.stream,
    row.type,
    row.key,
    attempts,
    JSON.stringify(serializeError(asError(error))),
  ]);
  if (settle(context, lease, owned, rows.length > 0, event.position)) {
    context.logger.error('outbox relay: parked a poison event in relay_dead_letters', {
      relay: context.relay,
      partition: lease.partition,
      eventId: row.event_id,
      error,
    });
  }
}

/**
 * `error` as an `Error` (a non-Error thrown value is wrapped).
 *
 * @example
 * ```ts
 * policy.delayMs(attempt, asError(error));
 * ```
 */
export function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

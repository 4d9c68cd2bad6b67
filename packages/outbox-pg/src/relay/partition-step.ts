import type { Logger, StoredEvent, Transport, TransportMessage } from '@relaybus/core';
import { serializeError } from '@relaybus/core';
import type { Pool } from 'pg';
import { ORIGIN, parsePosition } from '../positions';
import type { EventRow } from '../rows';
import { storedEventOf } from '../rows';
import { run } from '../sql/query';
import type { Lease, LeaseContext } from './leases';
import type { RelayStatements } from './relay-statements';

/** What one step over a partition needs. */
export interface StepContext extends LeaseContext {
  readonly pool: Pool;
  readonly sql: RelayStatements;
  readonly transport: Transport;
  readonly epoch: () => number;
  readonly batchSize: number;
  readonly maxAttempts: number;
  readonly crashLimit: number;
  readonly retryDelayMs: number;
  readonly maxRetryDelayMs: number;
  readonly isPoison: (error: unknown) => boolean;
  readonly logger: Logger;
  /** When the transport last accepted a publish (epoch ms). */
  lastAcceptedAt: number;
}

/** What a step did: published or parked something, found nothing, or is waiting to retry. */
export type StepResult = 'progress' | 'idle' | 'retry';

interface PartitionRow extends EventRow {
  readonly event_id: string;
  readonly type: string;
  readonly key: string | null;
}

interface LeasedRow extends PartitionRow {
  readonly lease_partition: number;
}

/**
 * Whether a lease can go in a combined step: no publish failure being retried, no takeover being probed one event
 * at a time, and a checkpoint in the current epoch.
 *
 * @example
 * ```ts
 * const plain = leases.filter((lease) => isBatchable(context, lease));
 * ```
 */
export function isBatchable(context: StepContext, lease: Lease): boolean {
  if (lease.attempts > 0 || lease.failures > 0 || lease.retryAt > 0) return false;
  const epoch = lease.position === null ? ORIGIN.epoch : parsePosition(lease.position).epoch;
  return epoch === context.epoch();
}

/**
 * One step over many leased partitions at once (see {@link isBatchable}): one read of up to `batchSize` events
 * per partition, one publish of all of them (each partition's events in order), one compare-and-set of every
 * checkpoint. A relay's round trips per pass stay the same however many partitions it holds. When the publish
 * fails, every partition with events takes a step of its own ({@link stepPartition}), which finds and isolates
 * the failing event.
 *
 * @example
 * ```ts
 * const result = await stepPartitions(context, [...owned.values()].filter((l) => isBatchable(context, l)), owned);
 * ```
 */
export async function stepPartitions(
  context: StepContext,
  leases: ReadonlyArray<Lease>,
  owned: Map<number, Lease>,
): Promise<StepResult> {
  if (leases.length === 0) return 'idle';
  const after = leases.map((lease) => (lease.position === null ? ORIGIN : parsePosition(lease.position)));
  const rows = await run<LeasedRow>(context.pool, context.sql.readMany, [
    context.epoch(),
    leases.map((lease) => lease.partition),
    after.map((parts) => parts.txId),
    after.map((parts) => parts.id),
    context.batchSize,
  ]);
  if (rows.length === 0) return 'idle';
  const byPartition = new Map<number, StoredEvent[]>();
  for (const row of rows) {
    const events = byPartition.get(row.lease_partition);
    if (events === undefined) byPartition.set(row.lease_partition, [storedEventOf(row)]);
    else events.push(storedEventOf(row));
  }
  const batches = leases.flatMap((lease) => {
    const events = byPartition.get(lease.partition)?.sort(byPosition);
    const last = events?.[events.length - 1];
    return events === undefined || last === undefined ? [] : [{ lease, events, last: last.position }];
  });
  try {
    await context.transport.publish(batches.flatMap((batch) => batch.events.map(messageOf)));
  } catch {
    let result: StepResult = 'idle';
    for (const { lease } of batches) {
      if (owned.get(lease.partition) !== lease) continue;
      const step = await stepPartition(context, lease, owned);
      if (step === 'progress' || result === 'idle') result = step;
    }
    return result;
  }
  context.lastAcceptedAt = Date.now();
  const { pool, sql, relay, owner, leaseMs } = context;
  const advanced = await run<{ partition: number }>(pool, sql.advanceMany, [
    relay,
    owner,
    leaseMs,
    batches.map((batch) => batch.lease.partition),
    batches.map((batch) => batch.lease.token),
    batches.map((batch) => batch.lease.position),
    batches.map((batch) => batch.last),
  ]);
  const done = new Set(advanced.map((row) => row.partition));
  for (const batch of batches)
    settle(context, batch.lease, owned, done.has(batch.lease.partition), batch.last);
  return 'progress';
}

function byPosition(a: StoredEvent, b: StoredEvent): number {
  return a.position < b.position ? -1 : a.position > b.position ? 1 : 0;
}

/**
 * One step over a leased partition: reads the next batch below the visibility horizon (no transaction is held),
 * publishes it, then advances the checkpoint with a compare-and-set on the lease row and its fencing token. A
 * publish failure is isolated to one event, which is retried with backoff, or parked in the dead letters when
 * it is poison (see the README) so the partition moves on. Returns what it did; a lost lease removes the
 * partition from `owned`.
 *
 * @example
 * ```ts
 * const result = await stepPartition(context, lease, owned);
 * ```
 */
export async function stepPartition(
  context: StepContext,
  lease: Lease,
  owned: Map<number, Lease>,
): Promise<StepResult> {
  if (lease.retryAt > Date.now()) return 'retry';
  // After a takeover from an owner that died here, go one event at a time to find the culprit.
  const limit = lease.attempts > 0 ? 1 : context.batchSize;
  const rows = await readAfter(context, lease, limit);
  const first = rows[0];
  if (first === undefined) return 'idle';
  if (lease.attempts >= context.crashLimit) {
    const error = new Error(
      `crash loop: ${lease.attempts} relay instances stopped without finishing this event's partition at this position`,
    );
    await park(context, lease, owned, first, error, lease.attempts);
    return 'progress';
  }
  const events = rows.map(storedEventOf);
  try {
    await context.transport.publish(events.map(messageOf));
    context.lastAcceptedAt = Date.now();
    await advance(context, lease, owned, events[events.length - 1]?.position);
    return 'progress';
  } catch (error) {
    if (events.length === 1) return failed(context, lease, owned, first, error);
  }
  // Isolate the failure: publish one at a time, advance past the ones accepted, then handle the one that failed.
  for (const [index, event] of events.entries()) {
    try {
      await context.transport.publish([messageOf(event)]);
      context.lastAcceptedAt = Date.now();
    } catch (error) {
      if (index > 0) {
        if (!(await advance(context, lease, owned, events[index - 1]?.position))) return 'progress';
      }
      const row = rows[index];
      return row === undefined ? 'retry' : failed(context, lease, owned, row, error);
    }
  }
  await advance(context, lease, owned, events[events.length - 1]?.position);
  return 'progress';
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

async function readAfter(context: StepContext, lease: Lease, limit: number): Promise<PartitionRow[]> {
  const after = lease.position === null ? ORIGIN : parsePosition(lease.position);
  const epoch = context.epoch();
  const params: unknown[] = [after.epoch, after.txId, after.id, limit];
  if (after.epoch === epoch)
    return run<PartitionRow>(context.pool, context.sql.readCurrent, [...params, lease.partition]);
  return run<PartitionRow>(context.pool, context.sql.readOlder, [...params, epoch, lease.partition]);
}

async function advance(
  context: StepContext,
  lease: Lease,
  owned: Map<number, Lease>,
  position: string | undefined,
): Promise<boolean> {
  if (position === undefined) return true;
  const { pool, sql, relay, owner, leaseMs } = context;
  const rows = await run(pool, sql.advance, [
    relay,
    owner,
    lease.partition,
    lease.token,
    lease.position,
    position,
    leaseMs,
  ]);
  return settle(context, lease, owned, rows.length > 0, position);
}

function settle(
  context: StepContext,
  lease: Lease,
  owned: Map<number, Lease>,
  advanced: boolean,
  position: string,
): boolean {
  if (!advanced) {
    // Another instance holds the partition now (its token differs): it resumes from the stored checkpoint.
    if (owned.get(lease.partition) === lease) owned.delete(lease.partition);
    context.logger.warn('outbox relay: lost a partition lease; another instance continues it', {
      relay: context.relay,
      partition: lease.partition,
    });
    return false;
  }
  lease.position = position;
  lease.attempts = 0;
  lease.failures = 0;
  lease.failingEventId = undefined;
  lease.retryAt = 0;
  return true;
}

async function failed(
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
  // A transport that is down fails every event: park only when it accepted others since this one first failed.
  const poison =
    context.isPoison(error) ||
    (lease.failures >= context.maxAttempts && context.lastAcceptedAt > lease.firstFailureAt);
  if (poison) {
    await park(context, lease, owned, row, error, lease.failures);
    return 'progress';
  }
  const delay = Math.min(context.retryDelayMs * 2 ** (lease.failures - 1), context.maxRetryDelayMs);
  lease.retryAt = Date.now() + delay;
  context.logger.warn('outbox relay: publishing failed; retrying', {
    relay: context.relay,
    partition: lease.partition,
    eventId: row.event_id,
    attempt: lease.failures,
    error,
  });
  return 'retry';
}

async function park(
  context: StepContext,
  lease: Lease,
  owned: Map<number, Lease>,
  row: PartitionRow,
  error: unknown,
  attempts: number,
): Promise<void> {
  const event = storedEventOf(row);
  const { pool, sql, relay, owner, leaseMs } = context;
  const rows = await run(pool, sql.park, [
    relay,
    owner,
    lease.partition,
    lease.token,
    lease.position,
    event.position,
    leaseMs,
    row.event_id,
    row.stream,
    row.type,
    row.key,
    attempts,
    JSON.stringify(serializeError(error instanceof Error ? error : new Error(String(error)))),
  ]);
  if (settle(context, lease, owned, rows.length > 0, event.position)) {
    context.logger.error('outbox relay: parked a poison event in relay_dead_letters', {
      relay,
      partition: lease.partition,
      eventId: row.event_id,
      error,
    });
  }
}

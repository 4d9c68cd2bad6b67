import type { StoredEvent } from '@relaybus/core';
import { ORIGIN, parsePosition } from '../positions';
import { storedEventOf } from '../rows';
import { run } from '../sql/query';
import type { PartitionRow, StepContext, StepResult } from './checkpoints';
import { messageOf, settle } from './checkpoints';
import type { Lease } from './leases';
import { stepPartition } from './partition-step';

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
  if (lease.probing > 0 || lease.failures > 0 || lease.retryAt > 0) return false;
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
  const { pool, sql, relay, owner, leaseTtlMs } = context;
  const advanced = await run<{ partition: number }>(pool, sql.advanceMany, [
    relay,
    owner,
    leaseTtlMs,
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

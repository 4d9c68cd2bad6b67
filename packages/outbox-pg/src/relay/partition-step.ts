import { ORIGIN, parsePosition } from '../positions';
import { storedEventOf } from '../rows';
import { run } from '../sql/query';
import type { PartitionRow, StepContext, StepResult } from './checkpoints';
import { advance, failed, markInFlight, park } from './checkpoints';
import { deliverInOrder, deliverOne } from './deliveries';
import type { Lease } from './leases';

/**
 * One step over a leased partition: reads the next batch below the visibility horizon (no transaction is held),
 * delivers it in order (plain events published, jobs handed to their queues), then advances the checkpoint with a
 * compare-and-set on the lease row and its fencing token. A delivery failure is isolated to one event: the
 * checkpoint moves up to it, and it is retried with backoff, or parked in the dead letters when it is poison (see
 * the README) so the partition moves on. After a takeover from an owner that died holding the partition, it goes
 * one event at a time instead (see {@link probe}). Returns what it did; a lost lease removes the partition from
 * `owned`.
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
  const rows = await readAfter(context, lease, lease.probing > 0 ? 1 : context.batchSize);
  const first = rows[0];
  if (first === undefined) {
    // Nothing after the checkpoint now, so nothing was in flight when the previous owner died either (what it
    // read is still readable): no event to pin a crash on.
    lease.probing = 0;
    return 'idle';
  }
  if (lease.probing > 0) return probe(context, lease, owned, first);
  const events = rows.map(storedEventOf);
  const outcome = await deliverInOrder(context.destinations, events);
  const last = events[outcome.delivered - 1];
  if (!('error' in outcome)) {
    await advance(context, lease, owned, last?.position);
    return 'progress';
  }
  if (!(await advance(context, lease, owned, last?.position))) return 'progress';
  const row = rows[outcome.delivered];
  return row === undefined ? 'retry' : failed(context, lease, owned, row, outcome.error);
}

/**
 * Delivers the next event of a partition on its own (published, or handed to its job queue), marking it in flight
 * in the lease row first, so that a crash during its delivery is counted against it and nothing else. The count
 * comes from the lease row: an event that `crashLimit` instances died delivering is parked as the cause of a crash
 * loop instead of being delivered again. A delivery that fails (rather than crashing the process) finished: its
 * mark is taken back before the usual retry.
 */
async function probe(
  context: StepContext,
  lease: Lease,
  owned: Map<number, Lease>,
  row: PartitionRow,
): Promise<StepResult> {
  const crashes = lease.inFlight?.eventId === row.event_id ? lease.inFlight.attempts : 0;
  if (crashes >= context.crashLimit) {
    const error = new Error(
      `crash loop: ${crashes} relay instances stopped while publishing this event (crashLimit ${context.crashLimit})`,
    );
    await park(context, lease, owned, row, error, crashes);
    return 'progress';
  }
  if (!(await markInFlight(context, lease, owned, row.event_id, crashes + 1))) return 'progress';
  const event = storedEventOf(row);
  try {
    await deliverOne(context.destinations, event);
  } catch (error) {
    if (!(await markInFlight(context, lease, owned, row.event_id, crashes))) return 'progress';
    return failed(context, lease, owned, row, error);
  }
  if (await advance(context, lease, owned, event.position)) lease.probing -= 1;
  return 'progress';
}

async function readAfter(context: StepContext, lease: Lease, limit: number): Promise<PartitionRow[]> {
  const after = lease.position === null ? ORIGIN : parsePosition(lease.position);
  const epoch = context.epoch();
  const params: unknown[] = [after.epoch, after.txId, after.id, limit];
  if (after.epoch === epoch)
    return run<PartitionRow>(context.pool, context.sql.readCurrent, [...params, lease.partition]);
  return run<PartitionRow>(context.pool, context.sql.readOlder, [...params, epoch, lease.partition]);
}

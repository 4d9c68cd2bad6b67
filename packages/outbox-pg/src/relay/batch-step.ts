import type { StoredEvent } from '@relaybus/core';
import { ORIGIN, parsePosition } from '../positions';
import { storedEventOf } from '../rows';
import { run } from '../sql/query';
import type { PartitionRow, StepContext, StepResult } from './checkpoints';
import { failed, settle } from './checkpoints';
import { handOver, publish, runAt } from './deliveries';
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

/** One partition's events of a combined step, and how many of them were delivered so far. */
interface Batch {
  readonly lease: Lease;
  readonly rows: ReadonlyArray<LeasedRow>;
  readonly events: ReadonlyArray<StoredEvent>;
  delivered: number;
}

/** Where the rounds of a combined step stopped: the partitions whose delivery failed, and how. */
type Stop =
  | { readonly kind: 'done' }
  | { readonly kind: 'publish'; readonly batches: ReadonlyArray<Batch> }
  | { readonly kind: 'jobs'; readonly failures: ReadonlyArray<{ batch: Batch; error: unknown }> };

/**
 * One step over many leased partitions at once (see {@link isBatchable}): one read of up to `batchSize` events
 * per partition, delivery in rounds (see {@link deliverRounds}: one publish per round for every partition's next
 * plain events, then each partition's next job handed to its queue), and one compare-and-set of every checkpoint.
 * A relay's round trips per pass stay the same however many partitions it holds. When a publish fails, every
 * partition in it takes a step of its own ({@link stepPartition}), which finds and isolates the failing event; a
 * job that fails goes straight to the retry-or-park decision. What was delivered before is checkpointed first.
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
  const byPartition = new Map<number, LeasedRow[]>();
  for (const row of rows) {
    const partition = byPartition.get(row.lease_partition);
    if (partition === undefined) byPartition.set(row.lease_partition, [row]);
    else partition.push(row);
  }
  const batches = leases.flatMap((lease): Batch[] => {
    const sorted = byPartition.get(lease.partition)?.map((row) => ({ row, event: storedEventOf(row) }));
    if (sorted === undefined) return [];
    sorted.sort((a, b) => byPosition(a.event, b.event));
    return [{ lease, rows: sorted.map((s) => s.row), events: sorted.map((s) => s.event), delivered: 0 }];
  });
  const stop = await deliverRounds(context, batches);
  await checkpoint(context, owned, batches);
  let result: StepResult = batches.some((batch) => batch.delivered > 0) ? 'progress' : 'idle';
  const held = (batch: Batch): boolean => owned.get(batch.lease.partition) === batch.lease;
  const merge = (step: StepResult): void => {
    if (step === 'progress' || result === 'idle') result = step;
  };
  if (stop.kind === 'jobs') {
    for (const { batch, error } of stop.failures) {
      const row = batch.rows[batch.delivered];
      if (held(batch) && row !== undefined) merge(await failed(context, batch.lease, owned, row, error));
    }
  } else if (stop.kind === 'publish') {
    for (const batch of stop.batches)
      if (held(batch)) merge(await stepPartition(context, batch.lease, owned));
  }
  return result;
}

/**
 * Delivers the batches in rounds, keeping each partition's log order: a round publishes the next plain events of
 * every partition in one call, then hands each partition's next job (if it stopped at one) to its queue, the
 * partitions concurrently. A partition of plain events only is delivered in one round; each job in a partition
 * adds a round. Stops at the first round that fails, with `delivered` of each batch saying how far it got.
 */
async function deliverRounds(context: StepContext, batches: ReadonlyArray<Batch>): Promise<Stop> {
  for (;;) {
    const runs = batches.map((batch) => runAt(batch.events, batch.delivered));
    const publishing = batches.filter((_, index) => (runs[index]?.length ?? 0) > 0);
    if (publishing.length > 0) {
      try {
        await publish(context.destinations, runs.flat());
      } catch {
        return { kind: 'publish', batches: publishing };
      }
      for (const [index, batch] of batches.entries()) batch.delivered += runs[index]?.length ?? 0;
    }
    const atJob = batches.filter((batch) => batch.delivered < batch.events.length);
    if (atJob.length === 0) return { kind: 'done' };
    const results = await Promise.allSettled(
      atJob.map((batch) => handOver(context.destinations, batch.events[batch.delivered] as StoredEvent)),
    );
    const failures: Array<{ batch: Batch; error: unknown }> = [];
    for (const [index, result] of results.entries()) {
      const batch = atJob[index] as Batch;
      if (result.status === 'fulfilled') batch.delivered += 1;
      else failures.push({ batch, error: result.reason });
    }
    if (failures.length > 0) return { kind: 'jobs', failures };
  }
}

/** Advances the checkpoint of every batch that delivered something to its last delivered event, in one statement. */
async function checkpoint(
  context: StepContext,
  owned: Map<number, Lease>,
  batches: ReadonlyArray<Batch>,
): Promise<void> {
  const moved = batches.flatMap((batch) => {
    const last = batch.events[batch.delivered - 1];
    return last === undefined ? [] : [{ lease: batch.lease, last: last.position }];
  });
  if (moved.length === 0) return;
  const { pool, sql, relay, owner, leaseTtlMs } = context;
  const advanced = await run<{ partition: number }>(pool, sql.advanceMany, [
    relay,
    owner,
    leaseTtlMs,
    moved.map((batch) => batch.lease.partition),
    moved.map((batch) => batch.lease.token),
    moved.map((batch) => batch.lease.position),
    moved.map((batch) => batch.last),
  ]);
  const done = new Set(advanced.map((row) => row.partition));
  for (const batch of moved) settle(context, batch.lease, owned, done.has(batch.lease.partition), batch.last);
}

function byPosition(a: StoredEvent, b: StoredEvent): number {
  return a.position < b.position ? -1 : a.position > b.position ? 1 : 0;
}

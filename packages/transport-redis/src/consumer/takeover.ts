import type { ConsumerContext } from './consumer-context';
import type { Dispatcher } from './dispatcher';
import type { PartitionState } from './partition';

const PAGE = 100;

/** Where claimed entries go: the same path as read ones, with the deliveries they already had. */
export type Ingest = (
  partition: PartitionState,
  entryId: string,
  fields: unknown,
  deliveries: number,
) => void;

interface PendingRow {
  readonly id: string;
  readonly consumer: string;
  readonly deliveries: number;
}

function pendingRows(reply: unknown): PendingRow[] {
  if (!Array.isArray(reply)) return [];
  const rows: PendingRow[] = [];
  for (const row of reply) {
    if (!Array.isArray(row)) continue;
    const [id, consumer, , deliveries] = row as unknown[];
    if (typeof id === 'string' && typeof consumer === 'string') {
      rows.push({ id, consumer, deliveries: Number(deliveries) || 0 });
    }
  }
  return rows;
}

async function claim(
  context: ConsumerContext,
  partition: PartitionState,
  rows: ReadonlyArray<PendingRow>,
  minIdleMs: number,
  ingest: Ingest,
): Promise<void> {
  if (rows.length === 0) return;
  const { redis, group, member } = context;
  const deliveries = new Map(rows.map((row) => [row.id, row.deliveries]));
  const reply: unknown = await redis.call(
    'XCLAIM',
    partition.stream,
    group,
    member,
    minIdleMs,
    ...rows.map((row) => row.id),
  );
  if (!Array.isArray(reply)) return;
  for (const entry of reply) {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string' || !partition.live) continue;
    ingest(partition, entry[0], entry[1], deliveries.get(entry[0]) ?? 0);
  }
}

/** Restores the key holds of retries this group scheduled for `partition` (nacks with a delay). */
async function restoreHolds(
  context: ConsumerContext,
  partition: PartitionState,
  dispatcher: Dispatcher,
): Promise<void> {
  const members = await context.redis.zrange(context.keys.delayed(partition.topic), 0, -1);
  for (const member of members) {
    const first = member.indexOf('|');
    const second = member.indexOf('|', first + 1);
    if (first < 0 || second < 0 || Number(member.slice(0, first)) !== partition.index) continue;
    let fields: unknown;
    try {
      fields = JSON.parse(member.slice(second + 1));
    } catch {
      continue;
    }
    if (!Array.isArray(fields)) continue;
    const get = (name: string): unknown => fields[(fields as unknown[]).indexOf(name) + 1];
    const key = get('k');
    if (get('g') === context.group && typeof key === 'string' && (fields as unknown[]).includes('k')) {
      dispatcher.hold(partition, key, member.slice(first + 1, second));
    }
  }
}

/**
 * Takes over a newly acquired partition: restores the key holds of pending retries, then claims every entry still
 * pending in the group (the previous owner's unsettled work) in stream order, before any new entry is read.
 */
export async function takeOver(
  context: ConsumerContext,
  partition: PartitionState,
  dispatcher: Dispatcher,
  ingest: Ingest,
): Promise<void> {
  await restoreHolds(context, partition, dispatcher);
  let start = '-';
  while (partition.status === 'takeover') {
    const rows = pendingRows(await context.redis.xpending(partition.stream, context.group, start, '+', PAGE));
    await claim(context, partition, rows, 0, ingest);
    const last = rows[rows.length - 1];
    if (rows.length < PAGE || last === undefined) break;
    start = `(${last.id}`;
  }
  if (partition.status === 'takeover') partition.status = 'reading';
}

/**
 * Claims entries of a partition we own that another consumer has held for longer than the visibility timeout
 * (a member that lost its lease without noticing, or a read that raced a lease change), and our own pending
 * entries we do not know about (a read whose reply was lost when the connection dropped).
 */
export async function reclaimStale(
  context: ConsumerContext,
  partition: PartitionState,
  visibilityTimeoutMs: number,
  ingest: Ingest,
): Promise<void> {
  const idleMs = Math.ceil(visibilityTimeoutMs);
  const reply: unknown = await context.redis.call(
    'XPENDING',
    partition.stream,
    context.group,
    'IDLE',
    idleMs,
    '-',
    '+',
    PAGE,
  );
  const rows = pendingRows(reply).filter(
    (row) => row.consumer !== context.member || !partition.entries.has(row.id),
  );
  await claim(context, partition, rows, idleMs, ingest);
}

import { isNoGroup } from '../connection';
import { IncompatibleClientError } from '../errors';
import { type PendingRow, parseEntries, parsePendingRows, parsePendingSummary } from '../replies';
import { CLAIM_SCRIPT } from '../scripts';
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

/** A claim refused because the partition's lease is not this member's (any more, or not yet renewed). */
class NotLeasedError extends Error {
  constructor(partition: PartitionState) {
    super(
      `partition ${partition.index} of "${partition.topic}" is not leased to this member; nothing claimed`,
    );
    this.name = 'NotLeasedError';
  }
}

async function claim(
  context: ConsumerContext,
  partition: PartitionState,
  rows: ReadonlyArray<PendingRow>,
  minIdleMs: number,
  ingest: Ingest,
): Promise<void> {
  if (rows.length === 0) return;
  const { redis, group, member, keys } = context;
  const deliveries = new Map(rows.map((row) => [row.id, row.deliveries]));
  const reply: unknown = await CLAIM_SCRIPT.run(
    redis,
    [partition.stream, keys.leases(partition.topic, group)],
    [group, member, partition.index, partition.token, minIdleMs, ...rows.map((row) => row.id)],
  );
  if (reply === null) throw new NotLeasedError(partition);
  for (const entry of parseEntries('XCLAIM', reply)) {
    if (!partition.live) continue;
    ingest(partition, entry.id, entry.fields, deliveries.get(entry.id) ?? 0);
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
 * pending in the group (the previous owner's unsettled work) in stream order, before any new entry is read. Claims
 * succeed only while the lease is this member's, so a takeover that reaches Redis late takes nothing.
 *
 * A member that kept its partition through an outage takes it over again the same way: a read whose reply the
 * outage lost left entries pending for it that it never saw, and they come before anything it reads next.
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
    const rows = parsePendingRows(
      await context.redis.xpending(partition.stream, context.group, start, '+', PAGE),
    );
    // Entries this member already has queued or in flight stay where they are (a takeover after an outage).
    const unknown = rows.filter((row) => !partition.entries.has(row.id));
    await claim(context, partition, unknown, 0, ingest);
    const last = rows[rows.length - 1];
    if (rows.length < PAGE || last === undefined) break;
    start = `(${last.id}`;
  }
  if (partition.status === 'takeover') partition.status = 'reading';
}

/**
 * Claims stragglers of a partition this member owns and has taken over: entries another consumer still holds (its
 * takeover collected everything pending, so these can only come from a member that lost its lease and read late,
 * as when Redis stalled with a read waiting), claimed at once; and this consumer's own pending entries it does not
 * know about (a read whose reply was lost when the connection dropped), once idle for the visibility timeout, since
 * until then the reply may still be on its way.
 */
export async function reclaimStale(
  context: ConsumerContext,
  partition: PartitionState,
  visibilityTimeoutMs: number,
  ingest: Ingest,
): Promise<void> {
  const { redis, group, member } = context;
  const summary = parsePendingSummary(await redis.xpending(partition.stream, group));
  for (const consumer of summary.consumers) {
    if (consumer.name === member) {
      if (consumer.count <= partition.entries.size) continue;
      const idleMs = Math.ceil(visibilityTimeoutMs);
      const reply: unknown = await redis.call(
        'XPENDING',
        partition.stream,
        group,
        'IDLE',
        idleMs,
        '-',
        '+',
        PAGE,
        member,
      );
      const unknown = parsePendingRows(reply).filter((row) => !partition.entries.has(row.id));
      await claim(context, partition, unknown, idleMs, ingest);
    } else {
      const reply: unknown = await redis.call(
        'XPENDING',
        partition.stream,
        group,
        '-',
        '+',
        PAGE,
        consumer.name,
      );
      await claim(context, partition, parsePendingRows(reply), 0, ingest);
    }
  }
}

/** What running takeovers report to their subscription. */
export interface TakeoverHost {
  /** A takeover finished: the partition can be read. */
  done(partition: PartitionState): void;
  /** Redis lost the group (a restart without persistence): recreate it before trying again. */
  recreate(partition: PartitionState): Promise<void>;
  /** A reply was not recognised. */
  fatal(error: IncompatibleClientError): void;
}

const RETRY_MS = 500;

/**
 * The takeovers of one subscription: each runs until it succeeds or its partition is no longer being taken over,
 * trying again every half second after a failure.
 */
export class Takeovers {
  readonly #context: ConsumerContext;
  readonly #dispatcher: Dispatcher;
  readonly #ingest: Ingest;
  readonly #host: TakeoverHost;
  readonly #running = new Set<Promise<void>>();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  #stopped = false;

  constructor(context: ConsumerContext, dispatcher: Dispatcher, ingest: Ingest, host: TakeoverHost) {
    this.#context = context;
    this.#dispatcher = dispatcher;
    this.#ingest = ingest;
    this.#host = host;
  }

  start(partition: PartitionState): void {
    const running = this.#run(partition);
    this.#running.add(running);
    void running.finally(() => this.#running.delete(running));
  }

  /** Resolves once the takeovers running now have finished (or failed for the first time). */
  async settled(): Promise<void> {
    await Promise.all([...this.#running]);
  }

  /** Cancels the retries; takeovers in flight finish on their own. */
  stop(): void {
    this.#stopped = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }

  async #run(partition: PartitionState): Promise<void> {
    try {
      await takeOver(this.#context, partition, this.#dispatcher, this.#ingest);
      this.#host.done(partition);
      return;
    } catch (error) {
      if (error instanceof IncompatibleClientError) return this.#host.fatal(error);
      if (isNoGroup(error)) await this.#host.recreate(partition).catch(() => undefined);
      else if (error instanceof NotLeasedError) this.#context.logger?.debug(error.message);
      else this.#context.logger?.warn('redis transport: taking over a partition failed; retrying', { error });
    }
    if (partition.status !== 'takeover' || this.#stopped) return;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      this.start(partition);
    }, RETRY_MS);
    this.#timers.add(timer);
  }
}

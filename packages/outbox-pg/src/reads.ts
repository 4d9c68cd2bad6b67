import type { EventPage, ReadStreamOptions, StoredEvent } from '@relaybus/core';
import { InvalidOptionError, StreamNotFoundError } from '@relaybus/core';
import { ORIGIN, parsePosition } from './positions';
import type { EventRow } from './rows';
import { positionOfRow, storedEventOf } from './rows';
import type { Queryable } from './sql/query';
import { run } from './sql/query';
import type { StoreStatements } from './sql/store-statements';

const DEFAULT_BATCH_SIZE = 500;

/** What the read functions need: where to query, the statements, and the current epoch. */
export interface ReadContext {
  readonly db: Queryable;
  readonly sql: StoreStatements;
  readonly epoch: number;
}

/** What `readPage` takes: the position to read after, the types to keep, and the page size. */
export interface PageOptions {
  readonly from?: string | undefined;
  readonly types?: ReadonlyArray<string> | undefined;
  readonly limit: number;
}

interface FilteredRow extends EventRow {
  readonly is_head: boolean;
}

/**
 * One page of the global log after `from`: only rows below the oldest in-flight transaction (so a transaction that
 * commits later can never land behind a page already read), in `(epoch, tx_id, id)` order, through `read_page()`,
 * whose plan is an ordered index range scan whatever the table's statistics (see migration 3).
 */
export async function readPage(context: ReadContext, options: PageOptions): Promise<EventPage> {
  const { db, sql, epoch } = context;
  const limit = positiveInteger('readPage', 'limit', options.limit);
  const after = options.from === undefined ? ORIGIN : parsePosition(options.from);
  const { types } = options;
  const rows = await run<FilteredRow>(db, sql.page, [
    after.epoch,
    after.txId,
    after.id,
    limit,
    epoch,
    types === undefined ? null : [...types],
  ]);
  const events = rows.filter((row) => !row.is_head).map(storedEventOf);
  if (types === undefined || events.length === limit)
    return { events, next: events[events.length - 1]?.position };
  // Fewer matches than asked for: everything up to the visible head was scanned, so the next page starts there.
  const head = rows.find((row) => row.is_head);
  return { events, next: head === undefined ? undefined : positionOfRow(head) };
}

/** The newest visible position. */
export async function headPosition(context: ReadContext): Promise<string | undefined> {
  const [row] = await run<{ epoch: number; tx_id: string; id: string }>(context.db, context.sql.head, [
    context.epoch,
  ]);
  return row === undefined ? undefined : positionOfRow(row);
}

/** A stream's version: 0 when it has no events. */
export async function streamVersion(
  context: Pick<ReadContext, 'db' | 'sql'>,
  stream: string,
): Promise<number> {
  const [row] = await run<{ version: string }>(context.db, context.sql.streamVersion, [stream]);
  return row === undefined ? 0 : Number(row.version);
}

/**
 * One stream in version order, page by page. Committed versions of a stream are gap-free (they are assigned under
 * the stream's row lock), so stream reads need no visibility horizon.
 */
export async function* readStream(
  context: Pick<ReadContext, 'db' | 'sql'>,
  stream: string,
  options: ReadStreamOptions = {},
): AsyncGenerator<StoredEvent> {
  const where = `readStream(${JSON.stringify(stream)})`;
  const batchSize = positiveInteger(where, 'batchSize', options.batchSize ?? DEFAULT_BATCH_SIZE);
  const fromVersion = options.fromVersion ?? 1;
  if (!Number.isInteger(fromVersion)) {
    throw new InvalidOptionError(where, 'fromVersion', `must be an integer, got ${String(fromVersion)}`);
  }
  let version = Math.max(1, fromVersion);
  for (let first = true; ; first = false) {
    options.signal?.throwIfAborted();
    const rows = await run<EventRow>(context.db, context.sql.readStream, [stream, version, batchSize]);
    if (first && rows.length === 0 && (await streamVersion(context, stream)) === 0) {
      throw new StreamNotFoundError(stream, 'postgres');
    }
    const events = rows.map(storedEventOf);
    yield* events;
    const last = events[events.length - 1];
    if (last === undefined || events.length < batchSize) return;
    version = last.streamVersion + 1;
  }
}

/** Checks a count option. */
export function positiveInteger(where: string, option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new InvalidOptionError(where, option, `must be an integer >= 1, got ${String(value)}`);
  }
  return value;
}

import type { AppendResult, ExpectedVersion, StoredEvent } from '@relaybus/core';
import { assertExpectedVersion, InvalidEnvelopeError, VersionConflictError } from '@relaybus/core';
import type { ClientBase } from 'pg';
import type { AppendPlan } from './append-plan';
import { holds } from './append-plan';
import { StreamOrderConflictError, TransactionRequiredError } from './errors';
import { STREAM_LOCK_CLASS } from './identifiers';
import type { EventRow, InsertedRow } from './rows';
import { positionOfRow, resultFrom, storedEventOf } from './rows';
import { pgCode, pgConstraint, run } from './sql/query';
import type { StoreStatements } from './sql/store-statements';

/** How often the store runs its own transaction again after a retryable failure. */
const MAX_ATTEMPTS = 8;
const SAVEPOINT = 'relaybus_append';

/** What one attempt inside a transaction came to. Only `appended` wrote anything. */
type Outcome =
  | ({ readonly kind: 'appended' } & Committed)
  /** The expected version does not hold, or some ids exist already: decided after the transaction. */
  | { readonly kind: 'known-or-conflict'; readonly actual: number | undefined }
  /** A transaction that began later appended to the stream already (see `StreamOrderConflictError`). */
  | { readonly kind: 'reordered'; readonly actual: number }
  /** Serialization failure or deadlock: run the transaction again. */
  | { readonly kind: 'retry'; readonly error: unknown };

/** An append the store committed in a transaction of its own. */
export interface Committed {
  readonly result: AppendResult;
  /** The writing transaction, as decimal text. */
  readonly txId: string;
  /** No older transaction was in flight: the rows are readable in the global feed already. */
  readonly alone: boolean;
}

/**
 * Appends in a transaction of its own: one statement in autocommit mode (the `append_events()` function), run again
 * (bounded) after a serialization failure, a deadlock or a stream-order conflict (which cannot happen here, since
 * the transaction id is assigned after the stream lock is taken, but is handled all the same).
 */
export async function appendInOwnTransaction(
  client: ClientBase,
  sql: StoreStatements,
  plan: AppendPlan,
  onBroken: (error: unknown) => void = () => {},
): Promise<Committed> {
  for (let attempt = 1; ; attempt++) {
    let outcome: Outcome;
    try {
      // No NOTIFY inside: the store sends it after the commit (see `createNotifier`).
      outcome = await attemptAppend(client, sql, plan, null);
    } catch (error) {
      // Not an error from Postgres: the connection itself failed and must not go back to the pool.
      if (pgCode(error) === undefined) onBroken(error);
      throw error;
    }
    // Committed: from here on nothing may turn the append into a failure.
    if (outcome.kind === 'appended') return outcome;
    if (outcome.kind === 'known-or-conflict') {
      // Nothing new was written: an idempotent retry is readable already.
      return { result: await settleKnown(client, sql, plan, outcome.actual), txId: '0', alone: true };
    }
    if (attempt >= MAX_ATTEMPTS) {
      if (outcome.kind === 'retry') throw outcome.error;
      throw new StreamOrderConflictError(plan.stream, plan.expected, outcome.actual);
    }
    await sleep(Math.random() * 2 ** attempt);
  }
}

/** How an append in the caller's transaction behaves. */
export interface CallerAppendOptions {
  /** Refuse a client outside `BEGIN` (else the store runs its own transaction on it). */
  readonly requireTransaction: boolean;
  /** The channel to NOTIFY inside the caller's transaction, or `null`. */
  readonly channel: string | null;
  /** Settles an append the store had to commit itself (`requireTransaction: false`). */
  readonly committed: (append: Committed) => Promise<AppendResult>;
}

/**
 * Appends in the caller's transaction on `client`, inside a savepoint so a failed append leaves the caller's
 * transaction usable. A client outside a transaction is refused (or, with `requireTransaction: false`, gets a
 * transaction of the store's own).
 */
export async function appendInCallerTransaction(
  client: ClientBase,
  sql: StoreStatements,
  plan: AppendPlan,
  { requireTransaction, channel, committed }: CallerAppendOptions,
): Promise<AppendResult> {
  try {
    await client.query(`SAVEPOINT ${SAVEPOINT}`);
  } catch (error) {
    const code = pgCode(error);
    // 25P01 no_active_sql_transaction: SAVEPOINT only works inside BEGIN ... COMMIT.
    if (code !== '25P01') {
      // 25P02: the caller's transaction had failed already, so no savepoint was made.
      if (code !== '25P02') await rollbackToSavepoint(client).catch(() => {});
      throw error;
    }
    if (requireTransaction) {
      throw new TransactionRequiredError(`postgres store: append(${JSON.stringify(plan.stream)})`);
    }
    return committed(await appendInOwnTransaction(client, sql, plan));
  }
  let outcome: Outcome;
  try {
    // NOTIFY in the caller's transaction: it is delivered when (and if) the caller commits.
    outcome = await attemptAppend(client, sql, plan, channel);
  } catch (error) {
    await rollbackToSavepoint(client).catch(() => {});
    throw error;
  }
  if (outcome.kind === 'appended') {
    await client.query(`RELEASE SAVEPOINT ${SAVEPOINT}`);
    return outcome.result;
  }
  await rollbackToSavepoint(client);
  if (outcome.kind === 'retry') throw outcome.error;
  if (outcome.kind === 'reordered')
    throw new StreamOrderConflictError(plan.stream, plan.expected, outcome.actual);
  return settleKnown(client, sql, plan, outcome.actual);
}

function rollbackToSavepoint(client: ClientBase): Promise<unknown> {
  return client.query(`ROLLBACK TO SAVEPOINT ${SAVEPOINT}; RELEASE SAVEPOINT ${SAVEPOINT}`);
}

/** What `append_events()` returns: one row per event appended, or one row saying why nothing was. */
interface AppendRow extends InsertedRow {
  readonly outcome: 'appended' | 'conflict' | 'reordered';
  readonly actual: string;
  readonly alone: boolean | null;
}

/** The expected version as `append_events()` takes it. */
function expectedCode(expected: ExpectedVersion): number {
  if (expected === 'any') return -1;
  if (expected === 'no_stream') return -2;
  if (expected === 'stream_exists') return -3;
  return expected;
}

/** One try: `append_events()` locks (or creates) the stream row, checks, inserts, and bumps the stream. */
async function attemptAppend(
  client: ClientBase,
  sql: StoreStatements,
  plan: AppendPlan,
  channel: string | null,
): Promise<Outcome> {
  const { stream, expected, json, partitions, lockKey } = plan;
  try {
    const rows = await run<AppendRow>(client, sql.append, [
      stream,
      expectedCode(expected),
      json,
      partitions,
      STREAM_LOCK_CLASS,
      lockKey,
      channel,
    ]);
    const first = rows[0];
    if (first === undefined) throw new Error(`append to "${stream}" returned no rows`);
    // Checked under the row lock: every earlier writer of this stream has committed.
    if (first.outcome === 'reordered') return { kind: 'reordered', actual: Number(first.actual) };
    if (first.outcome === 'conflict') return { kind: 'known-or-conflict', actual: Number(first.actual) };
    return appended(plan, rows, first.alone === true);
  } catch (error) {
    const code = pgCode(error);
    // 23505 on the event id: some ids are stored already (an idempotent retry, or a conflict).
    if (code === '23505' && pgConstraint(error) === 'events_event_id_key') {
      // The transaction is aborted now; the stream's version is read after it ends.
      return { kind: 'known-or-conflict', actual: undefined };
    }
    if (code === '40001' || code === '40P01') return { kind: 'retry', error };
    // 22P05: jsonb refuses \u0000 in strings.
    if (code === '22P05') throw new InvalidEnvelopeError((error as Error).message, { cause: error });
    throw error;
  }
}

/**
 * Decides an append that did not write: when every id was appended before, to this stream, in this order, at
 * versions the expectation allows, that earlier result is returned (an idempotent retry); otherwise a
 * `VersionConflictError`.
 */
async function settleKnown(
  client: ClientBase,
  sql: StoreStatements,
  plan: AppendPlan,
  observed: number | undefined,
): Promise<AppendResult> {
  const { stream, expected, events } = plan;
  const rows = await run<EventRow & { event_id: string }>(client, sql.findEvents, [events.map((e) => e.id)]);
  const actual = observed ?? (await readVersion(client, sql, stream));
  if (rows.length === 0) {
    assertExpectedVersion(stream, expected, actual);
    // The expectation holds now: the conflicting writer has gone. The caller may retry.
    throw new VersionConflictError(stream, expected, actual, ' (a concurrent append changed the stream)');
  }
  const byId = new Map(rows.map((row) => [row.event_id, storedEventOf(row)]));
  const stored = events.map((event) => byId.get(event.id));
  const first = stored[0];
  if (first === undefined) {
    throw new VersionConflictError(
      stream,
      expected,
      actual,
      ' (some of these event ids were already appended)',
    );
  }
  const sameBatch = stored.every(
    (event, i) =>
      event !== undefined && event.stream === stream && event.streamVersion === first.streamVersion + i,
  );
  if (!sameBatch) {
    throw new VersionConflictError(
      stream,
      expected,
      actual,
      ` (event ${first.id} was already appended to "${first.stream}" at version ${first.streamVersion}, with a different batch)`,
    );
  }
  const previous = first.streamVersion - 1;
  if (!holds(expected, previous)) {
    throw new VersionConflictError(
      stream,
      expected,
      actual,
      ` (these events were already appended after version ${previous}, not where expected)`,
    );
  }
  return resultFrom(stream, stored as StoredEvent[]);
}

async function readVersion(client: ClientBase, sql: StoreStatements, stream: string): Promise<number> {
  const [row] = await run<{ version: string }>(client, sql.streamVersion, [stream]);
  return row === undefined ? 0 : Number(row.version);
}

function appended(plan: AppendPlan, rows: ReadonlyArray<InsertedRow>, alone: boolean): Outcome {
  return { kind: 'appended', result: resultOf(plan, rows), txId: rows[0]?.tx_id ?? '0', alone };
}

function resultOf(plan: AppendPlan, rows: ReadonlyArray<InsertedRow>): AppendResult {
  const stored = rows.map((row, i): StoredEvent => {
    const event = plan.events[i];
    if (event === undefined)
      throw new Error(`append returned ${rows.length} rows for ${plan.events.length} events`);
    return {
      ...event,
      position: positionOfRow(row),
      stream: plan.stream,
      streamVersion: Number(row.stream_version),
    };
  });
  return resultFrom(plan.stream, stored);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

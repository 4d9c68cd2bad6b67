import type { AppendResult, StoredEvent } from '@relaybus/core';
import { assertExpectedVersion, InvalidEnvelopeError, VersionConflictError } from '@relaybus/core';
import type { ClientBase } from 'pg';
import type { AppendPlan } from './append-plan';
import { holds } from './append-plan';
import { StreamOrderConflictError, TransactionRequiredError } from './errors';
import type { PostgresAppendOptions } from './options';
import { DEFAULTS } from './options';
import type { EventRow, InsertedRow } from './rows';
import { positionOfRow, resultFrom, storedEventOf } from './rows';
import { pgCode, pgConstraint, run } from './sql/query';
import type { StoreStatements } from './sql/store-statements';

/** How often the store runs its own transaction again after a retryable failure. */
const MAX_ATTEMPTS = 8;
const SAVEPOINT = 'relaybus_append';

/** What one attempt inside a transaction came to. Only `appended` wrote anything. */
type Outcome =
  | { readonly kind: 'appended'; readonly result: AppendResult; readonly txId: string }
  /** The expected version does not hold, or some ids exist already: decided after the transaction. */
  | { readonly kind: 'known-or-conflict'; readonly actual: number | undefined }
  /** A transaction that began later appended to the stream already (see `StreamOrderConflictError`). */
  | { readonly kind: 'reordered'; readonly actual: number }
  /** Serialization failure or deadlock: run the transaction again. */
  | { readonly kind: 'retry'; readonly error: unknown };

/** How the store runs an append in its own transaction. */
export interface OwnTransactionOptions {
  /** How long to wait after COMMIT for the events to become readable in the global feed (0: no wait). */
  readonly visibilityWaitMs: number;
  /** Told when the connection could not even roll back, so it is not reused. */
  readonly onBroken?: (error: unknown) => void;
  /**
   * Told right after COMMIT, and again once the events are readable if that took a wait: the relay's in-process
   * wake-up.
   */
  readonly onCommitted?: () => void;
}

const VISIBLE = (txId: string): string => `pg_snapshot_xmin(pg_current_snapshot()) > '${txId}'::xid8`;

/**
 * Commits, and with a visibility wait asks in the same round trip whether the rows are readable in the global
 * feed yet (reads stop below the oldest transaction in flight). `txId` comes from Postgres as decimal text; it is
 * checked before it goes into the statement.
 */
async function commit(client: ClientBase, txId: string, wait: boolean): Promise<boolean> {
  if (!wait) {
    await client.query('COMMIT');
    return true;
  }
  if (!/^\d{1,20}$/.test(txId)) throw new Error(`append: unexpected transaction id ${JSON.stringify(txId)}`);
  const results = (await client.query(`COMMIT; SELECT ${VISIBLE(txId)} AS visible`)) as unknown as Array<{
    rows: Array<{ visible: boolean }>;
  }>;
  return results[1]?.rows[0]?.visible === true;
}

/**
 * Waits until every transaction older than `txId` has ended, so reads of the global feed (which stop below the
 * oldest transaction in flight) include the rows `txId` wrote; gives up after `timeoutMs`.
 */
async function awaitVisible(client: ClientBase, txId: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let pauseMs = 1; ; pauseMs = Math.min(pauseMs * 2, 50)) {
    await sleep(Math.max(0, Math.min(pauseMs, deadline - Date.now())));
    const { rows } = await client.query<{ visible: boolean }>(`SELECT ${VISIBLE(txId)} AS visible`);
    if (rows[0]?.visible === true || Date.now() >= deadline) return;
  }
}

/**
 * Appends in a transaction the store owns, on `client`: runs it again (bounded) after a serialization failure, a
 * deadlock or a stream-order conflict (which cannot happen here, since the transaction id is assigned after the
 * stream lock is taken, but is handled all the same).
 */
export async function appendInOwnTransaction(
  client: ClientBase,
  sql: StoreStatements,
  plan: AppendPlan,
  options: OwnTransactionOptions,
): Promise<AppendResult> {
  const { visibilityWaitMs, onBroken = () => {}, onCommitted = () => {} } = options;
  for (let attempt = 1; ; attempt++) {
    let outcome: Outcome;
    let visible = true;
    try {
      await client.query(`BEGIN ISOLATION LEVEL READ COMMITTED; ${plan.lock}`);
      outcome = await attemptAppend(client, sql, plan);
      if (outcome.kind === 'appended') visible = await commit(client, outcome.txId, visibilityWaitMs > 0);
      else await client.query('ROLLBACK');
    } catch (error) {
      // A connection that cannot even roll back must not go back to the pool; the original error matters more.
      await client.query('ROLLBACK').catch(onBroken);
      throw error;
    }
    if (outcome.kind === 'appended') {
      // Committed: from here on nothing may turn the append into a failure.
      onCommitted();
      if (!visible) {
        await awaitVisible(client, outcome.txId, visibilityWaitMs).catch(() => {});
        onCommitted();
      }
      return outcome.result;
    }
    if (outcome.kind === 'known-or-conflict') return settleKnown(client, sql, plan, outcome.actual);
    if (attempt >= MAX_ATTEMPTS) {
      if (outcome.kind === 'retry') throw outcome.error;
      throw new StreamOrderConflictError(plan.stream, plan.expected, outcome.actual);
    }
    await sleep(Math.random() * 2 ** attempt);
  }
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
  options: PostgresAppendOptions,
  own: OwnTransactionOptions,
): Promise<AppendResult> {
  try {
    await client.query(`SAVEPOINT ${SAVEPOINT}; ${plan.lock}`);
  } catch (error) {
    const code = pgCode(error);
    // 25P01 no_active_sql_transaction: SAVEPOINT only works inside BEGIN ... COMMIT.
    if (code !== '25P01') {
      // 25P02: the caller's transaction had failed already, so no savepoint was made; otherwise the lock failed.
      if (code !== '25P02') await rollbackToSavepoint(client).catch(() => {});
      throw error;
    }
    if (options.requireTransaction ?? DEFAULTS.requireTransaction) {
      throw new TransactionRequiredError(`postgres store: append(${JSON.stringify(plan.stream)})`);
    }
    return appendInOwnTransaction(client, sql, plan, own);
  }
  let outcome: Outcome;
  try {
    outcome = await attemptAppend(client, sql, plan);
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

/** One try, inside a transaction: lock (or create) the stream row, check, insert. */
async function attemptAppend(client: ClientBase, sql: StoreStatements, plan: AppendPlan): Promise<Outcome> {
  const { stream, expected, json, partitions } = plan;
  try {
    // Two rounds at most: a stream created by a concurrent writer between our lock and insert is locked next.
    for (let round = 0; round < 2; round++) {
      const [head] = await run<{ version: string; in_order: boolean }>(client, sql.lockStream, [stream]);
      if (head !== undefined) {
        const actual = Number(head.version);
        // Checked under the row lock: every earlier writer of this stream has committed.
        if (!head.in_order) return { kind: 'reordered', actual };
        if (!holds(expected, actual)) return { kind: 'known-or-conflict', actual };
        const rows = await run<InsertedRow>(client, sql.appendToStream, [
          stream,
          head.version,
          json,
          partitions,
        ]);
        return appended(plan, rows);
      }
      if (!holds(expected, 0)) return { kind: 'known-or-conflict', actual: 0 };
      const rows = await run<InsertedRow>(client, sql.createStream, [stream, json, partitions]);
      if (rows.length > 0) return appended(plan, rows);
    }
    throw new Error(`append to "${stream}": the stream row neither existed nor could be created`);
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

function appended(plan: AppendPlan, rows: ReadonlyArray<InsertedRow>): Outcome {
  return { kind: 'appended', result: resultOf(plan, rows), txId: rows[0]?.tx_id ?? '0' };
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

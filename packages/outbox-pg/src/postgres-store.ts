import type { AppendResult, Envelope, EventStore, ReadAllOptions } from '@relaybus/core';
import { ClosedError, InvalidOptionError, readAllPages } from '@relaybus/core';
import type { ClientBase } from 'pg';
import { appendInCallerTransaction, appendInOwnTransaction, type Committed } from './append';
import type { AppendPlan } from './append-plan';
import { planAppend } from './append-plan';
import { RestoredLogError, SchemaVersionError } from './errors';
import { guarded, storeFailure } from './failures';
import { notifyChannel, tablesOf } from './identifiers';
import { signalLocalCommit } from './local-commits';
import { SCHEMA_VERSION } from './migrations';
import { createNotifier } from './notifier';
import type { PostgresAppendOptions, PostgresEventStoreOptions } from './options';
import { DEFAULTS, resolveStoreOptions } from './options';
import { guardPoolErrors } from './pool-errors';
import { parsePosition } from './positions';
import type { PageOptions, ReadContext } from './reads';
import { headPosition, readPage, readStream, streamVersion } from './reads';
import { pgCode, type Queryable, run } from './sql/query';
import type { StoreStatements } from './sql/store-statements';
import { storeStatements } from './sql/store-statements';
import { checkout } from './sql/transaction';
import { createVisibilityWatcher } from './visibility';
import { createWakeups } from './wakeups';

/**
 * The Postgres event store: the {@link EventStore} contract with a `pg` client as its transaction type, so events
 * can be appended inside the caller's transaction. It is a transactional outbox (`outbox: true`): a bus with this
 * store only appends, and a relay ({@link createOutboxRelay}) delivers what was committed.
 *
 * @example
 * ```ts
 * const store: PostgresEventStore = postgresEventStore({ pool });
 * await store.append('task-1', [event], { expectedVersion: 0, transaction: client });
 * ```
 */
export interface PostgresEventStore extends EventStore<ClientBase>, AsyncDisposable {
  /** Always `true`: a relay delivers what is appended, so a bus with this store never sends events itself. */
  readonly outbox: true;
  /** The schema the store reads and writes. */
  readonly schema: string;
  /**
   * Appends events to a stream atomically. With `options.transaction` (a `pg` client after `BEGIN`), inside the
   * caller's transaction: the events commit or roll back with it.
   * @throws `VersionConflictError` when `expectedVersion` does not hold.
   * @throws {@link StreamOrderConflictError} (a `VersionConflictError`) when, in the caller's transaction, a
   * transaction that began later appended to the stream first: roll back and run the transaction again.
   * @throws {@link TransactionRequiredError} when `transaction` is not inside `BEGIN`.
   * @throws {@link SchemaVersionError} when the schema is not migrated to this release's version.
   * @throws `StoreUnavailableError` when Postgres cannot be reached, `StoreError` when it fails the statement.
   * @throws `ClosedError` after `close()`.
   */
  append(
    stream: string,
    events: ReadonlyArray<Envelope>,
    options?: PostgresAppendOptions,
  ): Promise<AppendResult>;
}

interface SchemaInfo {
  readonly partitions: number;
  readonly epoch: number;
}

/**
 * Creates the Postgres event store over the tables {@link migrate} made. It is also the transactional outbox:
 * append in the caller's transaction (`{ transaction: client }`) and the events commit or roll back with the
 * caller's writes; the relay reads them in the same global order as `readAll`. Give it to a bus
 * (`createEventBus({ events, store })`) and `bus.publish(Def, data, { transaction: client })` does the same.
 *
 * Global order is gap-free: each row carries its transaction's `xid8` and reads return only rows below the oldest
 * transaction still in flight, so a transaction that commits late never lands behind a position already read.
 * Per-stream order in the global feed equals stream-version order. The schema version is checked at first use.
 * Failures of Postgres itself surface as `StoreUnavailableError` (not reachable) or `StoreError`, naming the
 * operation, with the driver's error as `cause`.
 *
 * @throws `InvalidOptionError` for malformed options (at once).
 * @example
 * ```ts
 * import pg from 'pg';
 * import { migrate, postgresEventStore } from '@relaybus/outbox-pg';
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * pool.on('error', (error) => console.warn('idle Postgres connection failed', error.message));
 * await migrate(pool);
 * const store = postgresEventStore({ pool });
 *
 * const client = await pool.connect();
 * try {
 *   await client.query('BEGIN');
 *   await client.query('UPDATE tasks SET done = true WHERE id = $1', [taskId]);
 *   await store.append(`task-${taskId}`, [TaskCompleted.create({ taskId })], { transaction: client });
 *   await client.query('COMMIT');
 * } catch (error) {
 *   await client.query('ROLLBACK');
 *   throw error;
 * } finally {
 *   client.release();
 * }
 * ```
 */
export function postgresEventStore(options: PostgresEventStoreOptions): PostgresEventStore {
  const config = resolveStoreOptions(options);
  const { pool, schema } = config;
  const channel = notifyChannel(schema);
  const sql = storeStatements(tablesOf(schema));
  const notifier = config.notify ? createNotifier(pool, channel, config.logger) : undefined;
  const unguard = guardPoolErrors(pool, config.logger);
  let schemaInfo: Promise<SchemaInfo> | undefined;
  let closed = false;

  /**
   * The schema check runs once; a failed check runs again next time (the user may have migrated meanwhile). An append
   * in the caller's transaction checks on that connection: a pool that has one session (PGlite) could not serve a
   * second connection while the caller holds it.
   */
  function ready(db: Queryable = pool): Promise<SchemaInfo> {
    schemaInfo ??= checkSchema(db, sql, schema, config.partitions).catch((error: unknown) => {
      schemaInfo = undefined;
      throw error;
    });
    return schemaInfo;
  }

  async function reads(): Promise<ReadContext> {
    return { db: pool, sql, epoch: (await ready()).epoch };
  }

  const wakeups = createWakeups({
    pool,
    channel: config.listen ? channel : undefined,
    pollIntervalMs: config.pollIntervalMs,
    logger: config.logger,
    head: () => guarded('waitForEvents', pool, async () => headPosition(await reads())),
  });

  const visibility = createVisibilityWatcher(pool, config.logger);

  const onCommitted = (): void => {
    wakeups.hint();
    signalLocalCommit(schema);
    notifier?.committed();
  };

  /**
   * After the store's own commit: wake readers at once, and unless the rows are readable already, wait (with no
   * connection held) until they are, bounded by `visibilityWaitMs`, then wake readers again.
   */
  async function settleCommitted({ result, txId, alone }: Committed): Promise<AppendResult> {
    onCommitted();
    if (alone || config.visibilityWaitMs === 0) return result;
    await visibility.wait(txId, config.visibilityWaitMs);
    onCommitted();
    return result;
  }

  async function appendOwn(plan: AppendPlan): Promise<AppendResult> {
    const { client, release } = await checkout(pool);
    let broken: unknown;
    let committed: Committed;
    try {
      committed = await appendInOwnTransaction(client, sql, plan, (error) => {
        broken = error;
      });
    } finally {
      release(broken);
    }
    return settleCommitted(committed);
  }

  const store: PostgresEventStore = {
    name: 'postgres',
    outbox: true,
    schema,

    async append(stream, events, appendOptions = {}) {
      if (closed) throw new ClosedError('the postgres event store', `append to ${JSON.stringify(stream)}`);
      const { transaction } = appendOptions;
      return guarded('append', transaction ?? pool, async () => {
        const { partitions } = await ready(transaction ?? pool);
        const plan = planAppend(schema, stream, events, appendOptions.expectedVersion ?? 'any', partitions);
        if (transaction === undefined) return appendOwn(plan);
        return appendInCallerTransaction(transaction, sql, plan, {
          requireTransaction: appendOptions.requireTransaction ?? DEFAULTS.requireTransaction,
          channel: config.notify ? channel : null,
          committed: settleCommitted,
        });
      });
    },

    async *readStream(stream, readOptions) {
      try {
        await ready();
        yield* readStream({ db: pool, sql }, stream, readOptions);
      } catch (error) {
        throw storeFailure('readStream', pool, error);
      }
    },

    readAll(readOptions: ReadAllOptions = {}) {
      const pages = {
        readPage: (page: PageOptions) => guarded('readAll', pool, async () => readPage(await reads(), page)),
      };
      return readAllPages(pages, readOptions);
    },

    readPage(pageOptions) {
      return guarded('readPage', pool, async () => readPage(await reads(), pageOptions));
    },

    streamVersion(stream) {
      return guarded('streamVersion', pool, async () => {
        await ready();
        return streamVersion({ db: pool, sql }, stream);
      });
    },

    headPosition() {
      return guarded('headPosition', pool, async () => headPosition(await reads()));
    },

    async waitForEvents(from, signal) {
      if (from !== undefined) parsePosition(from);
      return wakeups.wait(from, signal);
    },

    async close() {
      if (closed) return;
      closed = true;
      visibility.close();
      await notifier?.close();
      await wakeups.close();
      unguard();
    },

    [Symbol.asyncDispose]() {
      return store.close();
    },
  };
  return store;
}

async function checkSchema(
  pool: Queryable,
  sql: StoreStatements,
  schema: string,
  partitions: number | undefined,
): Promise<SchemaInfo> {
  let version = 0;
  try {
    const [row] = await run<{ version: number | null }>(pool, sql.schemaVersion);
    version = row?.version ?? 0;
  } catch (error) {
    // 42P01 undefined_table, 3F000 invalid_schema_name: nothing migrated yet.
    if (pgCode(error) !== '42P01' && pgCode(error) !== '3F000') throw error;
  }
  if (version !== SCHEMA_VERSION) throw new SchemaVersionError(schema, version, SCHEMA_VERSION);
  const [meta] = await run<{ partitions: number; epoch: number; restored: boolean }>(pool, sql.meta);
  if (meta === undefined) throw new SchemaVersionError(schema, 0, SCHEMA_VERSION);
  if (meta.restored) throw new RestoredLogError(schema);
  if (partitions !== undefined && partitions !== meta.partitions) {
    throw new InvalidOptionError(
      'postgresEventStore()',
      'partitions',
      `is ${partitions}, but schema "${schema}" was migrated with ${meta.partitions}; leave the option out or pass ${meta.partitions}`,
    );
  }
  return { partitions: meta.partitions, epoch: meta.epoch };
}

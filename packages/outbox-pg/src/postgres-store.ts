import type { AppendResult, Envelope, EventStore, ReadAllOptions } from '@relaybus/core';
import { InvalidOptionError, readAllPages } from '@relaybus/core';
import type { Pool } from 'pg';
import { appendInCallerTransaction, appendInOwnTransaction, type Committed } from './append';
import { planAppend } from './append-plan';
import { RestoredLogError, SchemaVersionError } from './errors';
import { notifyChannel, tablesOf } from './identifiers';
import { signalLocalCommit } from './local-commits';
import { SCHEMA_VERSION } from './migrations';
import { createNotifier } from './notifier';
import type { PostgresAppendOptions, PostgresEventStoreOptions } from './options';
import { resolveStoreOptions } from './options';
import { parsePosition } from './positions';
import type { ReadContext } from './reads';
import { headPosition, readPage, readStream, streamVersion } from './reads';
import { pgCode, run } from './sql/query';
import type { StoreStatements } from './sql/store-statements';
import { storeStatements } from './sql/store-statements';
import { createVisibilityWatcher } from './visibility';
import { createWakeups } from './wakeups';

/**
 * The Postgres event store: the {@link EventStore} contract, plus appends inside the caller's transaction.
 *
 * @example
 * ```ts
 * const store: PostgresEventStore = postgresEventStore({ pool });
 * await store.append('task-1', [event], { expectedVersion: 0, client });
 * ```
 */
export interface PostgresEventStore extends EventStore, AsyncDisposable {
  /** The schema the store reads and writes. */
  readonly schema: string;
  /**
   * Appends events to a stream atomically. With `options.client`, inside the caller's transaction.
   * @throws `VersionConflictError` when `expectedVersion` does not hold.
   * @throws {@link StreamOrderConflictError} (a `VersionConflictError`) when, in the caller's transaction, a
   * transaction that began later appended to the stream first: roll back and run the transaction again.
   * @throws {@link TransactionRequiredError} when `client` is not inside `BEGIN`.
   * @throws {@link SchemaVersionError} when the schema is not migrated to this release's version.
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
 * append in the caller's transaction (`{ client }`) and the events commit or roll back with the caller's writes;
 * the relay reads them in the same global order as `readAll`.
 *
 * Global order is gap-free: each row carries its transaction's `xid8` and reads return only rows below the oldest
 * transaction still in flight, so a transaction that commits late never lands behind a position already read.
 * Per-stream order in the global feed equals stream-version order. The schema version is checked at first use.
 *
 * @throws `InvalidOptionError` for malformed options (at once).
 * @example
 * ```ts
 * import pg from 'pg';
 * import { migrate, postgresEventStore } from '@relaybus/outbox-pg';
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * await migrate(pool);
 * const store = postgresEventStore({ pool });
 *
 * const client = await pool.connect();
 * try {
 *   await client.query('BEGIN');
 *   await client.query('UPDATE tasks SET done = true WHERE id = $1', [taskId]);
 *   await store.append(`task-${taskId}`, [TaskCompleted.create({ taskId })], { client });
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
  let schemaInfo: Promise<SchemaInfo> | undefined;

  /** The schema check runs once; a failed check runs again next time (the user may have migrated meanwhile). */
  function ready(): Promise<SchemaInfo> {
    schemaInfo ??= checkSchema(pool, sql, schema, config.partitions).catch((error: unknown) => {
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
    head: async () => headPosition(await reads()),
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

  const store: PostgresEventStore = {
    name: 'postgres',
    schema,

    async append(stream, events, appendOptions = {}) {
      const { partitions } = await ready();
      const plan = planAppend(schema, stream, events, appendOptions.expectedVersion ?? 'any', partitions);
      if (appendOptions.client !== undefined) {
        return appendInCallerTransaction(
          appendOptions.client,
          sql,
          plan,
          appendOptions,
          config.notify ? channel : null,
          settleCommitted,
        );
      }
      const client = await pool.connect();
      let broken: Error | undefined;
      let committed: Committed;
      try {
        committed = await appendInOwnTransaction(client, sql, plan, (error) => {
          broken = error instanceof Error ? error : new Error(String(error));
        });
      } finally {
        client.release(broken);
      }
      return settleCommitted(committed);
    },

    async *readStream(stream, readOptions) {
      await ready();
      yield* readStream({ db: pool, sql }, stream, readOptions);
    },

    readAll(readOptions: ReadAllOptions = {}) {
      return readAllPages(store, readOptions);
    },

    async readPage(pageOptions) {
      return readPage(await reads(), pageOptions);
    },

    async streamVersion(stream) {
      await ready();
      return streamVersion({ db: pool, sql }, stream);
    },

    async headPosition() {
      return headPosition(await reads());
    },

    async waitForEvents(from, signal) {
      if (from !== undefined) parsePosition(from);
      return wakeups.wait(from, signal);
    },

    async close() {
      visibility.close();
      await notifier?.close();
      await wakeups.close();
    },

    [Symbol.asyncDispose]() {
      return store.close();
    },
  };
  return store;
}

async function checkSchema(
  pool: Pool,
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

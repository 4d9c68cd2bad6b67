import type { AppendOptions, Logger } from '@relaybus/core';
import { consoleLogger, InvalidOptionError } from '@relaybus/core';
import type { ClientBase, Pool } from 'pg';
import { checkIdentifier } from './identifiers';

/** Defaults of every option, in one place. */
export const DEFAULTS = {
  schema: 'relaybus',
  partitions: 16,
  listen: true,
  notify: true,
  pollIntervalMs: 1_000,
  visibilityWaitMs: 1_000,
  requireTransaction: true,
} as const;

/** The largest partition count a schema may be created with. */
export const MAX_PARTITIONS = 1_024;

/**
 * Options of {@link migrate}.
 *
 * @example
 * ```ts
 * await migrate(pool, { schema: 'relaybus', partitions: 32 });
 * ```
 */
export interface MigrateOptions {
  /**
   * The schema holding the relaybus tables; created when missing. Lowercase letters, digits and underscores.
   * @defaultValue 'relaybus'
   */
  schema?: string;
  /**
   * How many key partitions the log has (1 to 1024): the unit relays lease, so it bounds how many relay
   * instances share the work. Fixed when the schema is first migrated; later calls must pass the same value or
   * leave it out.
   * @defaultValue 16
   */
  partitions?: number;
}

/**
 * Options of {@link postgresEventStore}.
 *
 * @example
 * ```ts
 * const store = postgresEventStore({ pool, schema: 'relaybus', pollIntervalMs: 500 });
 * ```
 */
export interface PostgresEventStoreOptions {
  /** The `pg` pool the store queries through. The store never ends it. */
  pool: Pool;
  /**
   * The schema {@link migrate} created the tables in.
   * @defaultValue 'relaybus'
   */
  schema?: string;
  /**
   * When given, the partition count the schema must have been migrated with; a mismatch fails at first use.
   * @defaultValue the count stored by `migrate()`
   */
  partitions?: number;
  /**
   * Hold one pooled connection to LISTEN for appends by other processes, so `waitForEvents` wakes within
   * milliseconds. Turn it off behind PgBouncer in transaction mode, where LISTEN does not work; polling remains.
   * @defaultValue true
   */
  listen?: boolean;
  /**
   * Send a NOTIFY to wake listeners in other processes: after the commit for the store's own appends (at most
   * one in flight, shared by every commit meanwhile), inside the caller's transaction for appends with
   * `transaction`.
   * @defaultValue true
   */
  notify?: boolean;
  /**
   * Longest pause between polls while `waitForEvents` waits: the bound on how late a lost notification is
   * noticed. Polls run faster right after a hint, then slow down to this.
   * @defaultValue 1000
   */
  pollIntervalMs?: number;
  /**
   * How long an append in the store's own transaction waits, after COMMIT, for its events to become readable in
   * the global feed: reads stop below the oldest transaction in flight anywhere in the cluster, so without the
   * wait a read right after an append may not see it yet. The append succeeds either way; 0 turns the wait off.
   * Appends in the caller's transaction (`transaction`) never wait: the caller commits.
   * @defaultValue 1000
   */
  visibilityWaitMs?: number;
  /**
   * Where background problems (a lost LISTEN connection, a failed poll, an idle pooled connection that failed while
   * the application has no `'error'` listener on the pool) are reported.
   * @defaultValue consoleLogger (warnings and errors)
   */
  logger?: Logger;
}

/**
 * Options of the Postgres store's `append`: the contract's options, whose `transaction` is a `pg` client inside the
 * caller's `BEGIN`, plus what to do with a client outside a transaction.
 *
 * @example
 * ```ts
 * await client.query('BEGIN');
 * await client.query('UPDATE tasks SET title = $1 WHERE id = $2', [title, id]);
 * await store.append(`task-${id}`, [event], { expectedVersion: 3, transaction: client });
 * await client.query('COMMIT');
 * ```
 */
export interface PostgresAppendOptions extends AppendOptions<ClientBase> {
  /**
   * Refuse a `transaction` client that is not inside `BEGIN` with `TransactionRequiredError`. With `false`, the
   * store runs its own transaction on that client instead.
   * @defaultValue true
   */
  requireTransaction?: boolean;
}

/** Store options with defaults applied and checked. */
export interface ResolvedStoreOptions {
  readonly pool: Pool;
  readonly schema: string;
  readonly partitions: number | undefined;
  readonly listen: boolean;
  readonly notify: boolean;
  readonly pollIntervalMs: number;
  readonly visibilityWaitMs: number;
  readonly logger: Logger;
}

/**
 * Applies defaults to store options and checks them.
 *
 * @throws `InvalidOptionError` naming the first option at fault.
 */
export function resolveStoreOptions(options: PostgresEventStoreOptions): ResolvedStoreOptions {
  const where = 'postgresEventStore()';
  const pool: unknown = options?.pool;
  if (typeof pool !== 'object' || pool === null || typeof Reflect.get(pool, 'connect') !== 'function') {
    throw new InvalidOptionError(where, 'pool', 'must be a pg Pool (new pg.Pool(...))');
  }
  const pollIntervalMs = options.pollIntervalMs ?? DEFAULTS.pollIntervalMs;
  if (!Number.isInteger(pollIntervalMs) || pollIntervalMs < 10) {
    throw new InvalidOptionError(where, 'pollIntervalMs', `must be an integer >= 10, got ${pollIntervalMs}`);
  }
  const visibilityWaitMs = options.visibilityWaitMs ?? DEFAULTS.visibilityWaitMs;
  if (!Number.isInteger(visibilityWaitMs) || visibilityWaitMs < 0) {
    throw new InvalidOptionError(
      where,
      'visibilityWaitMs',
      `must be an integer >= 0, got ${visibilityWaitMs}`,
    );
  }
  return {
    pool: options.pool,
    schema: checkIdentifier(where, 'schema', options.schema ?? DEFAULTS.schema),
    partitions: options.partitions === undefined ? undefined : checkPartitions(where, options.partitions),
    listen: options.listen ?? DEFAULTS.listen,
    notify: options.notify ?? DEFAULTS.notify,
    pollIntervalMs,
    visibilityWaitMs,
    logger: options.logger ?? consoleLogger,
  };
}

/**
 * Checks a partition count.
 *
 * @throws `InvalidOptionError` unless it is an integer from 1 to {@link MAX_PARTITIONS}.
 */
export function checkPartitions(where: string, partitions: unknown): number {
  if (
    typeof partitions !== 'number' ||
    !Number.isInteger(partitions) ||
    partitions < 1 ||
    partitions > MAX_PARTITIONS
  ) {
    throw new InvalidOptionError(
      where,
      'partitions',
      `must be an integer from 1 to ${MAX_PARTITIONS}, got ${String(partitions)}`,
    );
  }
  return partitions;
}

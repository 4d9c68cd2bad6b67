import type { ExpectedVersion, RelaybusErrorOptions } from '@relaybus/core';
import { InvalidOptionError, RelaybusError, VersionConflictError } from '@relaybus/core';

/**
 * The relaybus tables of a schema are at another version than this package expects: not migrated yet, behind,
 * or migrated by a newer release of `@relaybus/outbox-pg`.
 *
 * @example
 * ```ts
 * try { await store.headPosition(); } catch (error) {
 *   if (error instanceof SchemaVersionError) console.log(error.databaseVersion, error.packageVersion);
 * }
 * ```
 */
export class SchemaVersionError extends RelaybusError {
  /** The schema checked. */
  readonly schema: string;
  /** The newest migration applied to the schema (0 when none). */
  readonly databaseVersion: number;
  /** The newest migration this package knows. */
  readonly packageVersion: number;

  constructor(
    schema: string,
    databaseVersion: number,
    packageVersion: number,
    options: RelaybusErrorOptions = {},
  ) {
    super('SCHEMA_VERSION', schemaVersionMessage(schema, databaseVersion, packageVersion), options);
    this.name = 'SchemaVersionError';
    this.schema = schema;
    this.databaseVersion = databaseVersion;
    this.packageVersion = packageVersion;
  }
}

function schemaVersionMessage(schema: string, database: number, known: number): string {
  if (database > known) {
    return `Schema "${schema}" is at migration version ${database}, but this release of @relaybus/outbox-pg knows versions up to ${known}: a newer release migrated it. Upgrade @relaybus/outbox-pg in this service to a release that knows version ${database}; do not downgrade the schema.`;
  }
  if (database === 0) {
    return `Schema "${schema}" has no relaybus tables (migration version 0, this release needs ${known}). Run migrate(pool, { schema: '${schema}' }) before using the store.`;
  }
  return `Schema "${schema}" is at migration version ${database}, but this release needs ${known}. Run migrate(pool, { schema: '${schema}' }) to apply the missing steps.`;
}

/**
 * The log of a schema holds transaction ids from a different cluster (a logical restore, where transaction ids
 * start again): appending before a new epoch is started would order new events before restored ones.
 *
 * @example
 * ```ts
 * if (error instanceof RestoredLogError) await migrate(pool, { schema: error.schema }); // starts a new epoch
 * ```
 */
export class RestoredLogError extends RelaybusError {
  /** The schema checked. */
  readonly schema: string;

  constructor(schema: string) {
    super(
      'SCHEMA_VERSION',
      `The event log in schema "${schema}" holds transaction ids ahead of this cluster's, so it was restored from another cluster (pg_dump/pg_restore or logical replication). Run migrate(pool, { schema: '${schema}' }) once before any append: it starts a new position epoch so new events sort after the restored ones.`,
    );
    this.name = 'RestoredLogError';
    this.schema = schema;
  }
}

/**
 * `append(..., { transaction: client })` (or `bus.publish(..., { transaction: client })`) was given a client that is
 * not inside a transaction (`BEGIN`), so the events would not commit or roll back together with the caller's other
 * writes.
 *
 * @example
 * ```ts
 * await client.query('BEGIN');
 * await store.append('task-1', events, { transaction: client });
 * await client.query('COMMIT');
 * ```
 */
export class TransactionRequiredError extends InvalidOptionError {
  constructor(where: string) {
    super(
      where,
      'transaction',
      "is a client that is not inside a transaction: run client.query('BEGIN') first so the events commit together with your writes, or pass requireTransaction: false to let the store run its own transaction on this client",
    );
    this.name = 'TransactionRequiredError';
  }
}

/**
 * An append in the caller's transaction was refused because a transaction that started later already appended to
 * the same stream and committed: the global order (by transaction id) would put these events before that
 * writer's, against their stream versions. Roll back and run the transaction again; a new transaction passes.
 * The store retries on its own when it owns the transaction.
 *
 * @example
 * ```ts
 * if (error instanceof StreamOrderConflictError) await client.query('ROLLBACK'); // then run the unit of work again
 * ```
 */
export class StreamOrderConflictError extends VersionConflictError {
  constructor(stream: string, expected: ExpectedVersion, actual: number) {
    super(
      stream,
      expected,
      actual,
      '; the transaction holding this append began before the one that last appended to the stream, so its events would sort before that version in the global feed. Roll back and run the transaction again',
    );
    this.name = 'StreamOrderConflictError';
  }
}

/**
 * The database role lacks a privilege a statement needs (Postgres error 42501).
 *
 * @example
 * ```ts
 * if (error instanceof PermissionDeniedError) console.error(error.statement, error.privilege);
 * ```
 */
export class PermissionDeniedError extends RelaybusError {
  /** What relaybus was doing, such as `append: insert events`. */
  readonly statement: string;
  /** The privileges the statement needs, such as `INSERT on "relaybus"."events"`. */
  readonly privilege: string;

  constructor(statement: string, privilege: string, cause: unknown) {
    const detail = cause instanceof Error ? ` (Postgres: ${cause.message})` : '';
    super(
      'PERMISSION_DENIED',
      `Permission denied for "${statement}": the database role needs ${privilege}${detail}. Grant it to the role the pool connects as, or run this with a role that has it.`,
      { cause },
    );
    this.name = 'PermissionDeniedError';
    this.statement = statement;
    this.privilege = privilege;
  }
}

/**
 * The relay read a job the application enqueued in its transaction (`enqueue(..., { transaction })`) for a queue it
 * was not given in `jobQueues`, so there is nowhere to hand the job to. The relay parks the event with this error
 * (code `INVALID_ENVELOPE`, as core uses for a job handed to the wrong queue); give the relay that queue, then
 * redrive it.
 *
 * @example
 * ```ts
 * const relay = createOutboxRelay({ pool, bus, jobQueues: [emails, reports] });
 * await relay.parked.redrive({ type: JOB_ENQUEUED_EVENT });
 * ```
 */
export class UnknownJobQueueError extends RelaybusError {
  /** The queue the job was enqueued on, as stored in the event (not necessarily a string when malformed). */
  readonly queue: unknown;
  /** The queues the relay was given. */
  readonly known: ReadonlyArray<string>;

  constructor(eventId: string, queue: unknown, known: ReadonlyArray<string>) {
    const given = known.length === 0 ? 'none' : known.map((name) => JSON.stringify(name)).join(', ');
    super(
      'INVALID_ENVELOPE',
      `The job in outbox event ${eventId} was enqueued on queue ${JSON.stringify(queue) ?? 'undefined'}, which this relay was not given (jobQueues: ${given}). Pass that JobQueue in createOutboxRelay({ jobQueues }), then hand the job over with relay.parked.redrive({ eventIds: ['${eventId}'] }).`,
    );
    this.name = 'UnknownJobQueueError';
    this.queue = queue;
    this.known = known;
  }
}

import { InvalidOptionError } from '@relaybus/core';
import type { ClientBase, Pool } from 'pg';
import { SchemaVersionError } from './errors';
import { guarded } from './failures';
import type { Tables } from './identifiers';
import { checkIdentifier, tablesOf } from './identifiers';
import type { MigrateOptions } from './options';
import { checkPartitions, DEFAULTS } from './options';
import { migration001 } from './sql/migration-001';
import { migration002 } from './sql/migration-002';
import { migration003 } from './sql/migration-003';
import { run } from './sql/query';
import { storeStatements } from './sql/store-statements';
import { inTransaction } from './sql/transaction';

/** One versioned step. Released steps never change; later releases append steps. */
interface MigrationStep {
  readonly version: number;
  readonly name: string;
  readonly up: (tables: Tables, partitions: number) => string[];
}

const STEPS: ReadonlyArray<MigrationStep> = [
  {
    version: 1,
    name: 'event log, streams, checkpoints, relay leases and dead letters, inbox, snapshots',
    up: migration001,
  },
  {
    version: 2,
    name: 'append_events(): the append in one round trip',
    up: (tables) => migration002(tables),
  },
  {
    version: 3,
    name: 'read_page(): the global read, planned without statistics; errors of earlier attempts of parked events',
    up: (tables) => migration003(tables),
  },
];

/**
 * The newest migration this release knows; {@link postgresEventStore} needs a schema at exactly this version.
 *
 * @example
 * ```ts
 * const { toVersion } = await migrate(pool);
 * console.log(toVersion === SCHEMA_VERSION); // true
 * ```
 */
export const SCHEMA_VERSION: number = STEPS.length;

/** First key of the two-part advisory lock that serialises migrations (ASCII "RBus"). */
const LOCK_CLASS = 0x52427573;

/**
 * What {@link migrate} found and did.
 *
 * @example
 * ```ts
 * const result: MigrateResult = await migrate(pool);
 * if (result.applied.length > 0) logger.info('migrated', { ...result });
 * ```
 */
export interface MigrateResult {
  /** The schema migrated. */
  readonly schema: string;
  /** Migration version before the call (0 for a new schema). */
  readonly fromVersion: number;
  /** Migration version after the call: {@link SCHEMA_VERSION}. */
  readonly toVersion: number;
  /** The versions this call applied, oldest first; empty when the schema was up to date. */
  readonly applied: ReadonlyArray<number>;
  /** The schema's partition count (fixed at its first migration). */
  readonly partitions: number;
  /** The position epoch new events get (see the README: it grows when a restored log is detected). */
  readonly epoch: number;
  /** Whether this call started a new epoch because the log was restored from another cluster. */
  readonly epochStarted: boolean;
}

/**
 * Creates or upgrades the relaybus tables in a schema: idempotent, and safe when several processes call it at
 * once (they queue on a transaction-scoped advisory lock keyed on the schema, and all steps run in one
 * transaction). It also detects a log restored from another cluster (transaction ids start again there) and
 * starts a new position epoch so new events sort after the restored ones.
 *
 * The role needs `CREATE` on the database (for a new schema) or on the schema; the store itself does not.
 *
 * @throws {@link SchemaVersionError} when the schema was migrated by a newer release than this one.
 * @throws `InvalidOptionError` for a malformed schema name, or a `partitions` that differs from the
 * schema's.
 * @throws {@link PermissionDeniedError} when the role may not create the schema or its tables.
 * @throws `StoreUnavailableError` when Postgres cannot be reached, `StoreError` when it fails a statement (both
 * name the operation; the driver's error is the `cause`).
 * @example
 * ```ts
 * import pg from 'pg';
 * import { migrate } from '@relaybus/outbox-pg';
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * await migrate(pool, { schema: 'relaybus' });
 * ```
 */
export async function migrate(pool: Pool, options: MigrateOptions = {}): Promise<MigrateResult> {
  const where = 'migrate()';
  const schema = checkIdentifier(where, 'schema', options.schema ?? DEFAULTS.schema);
  const wanted = options.partitions === undefined ? undefined : checkPartitions(where, options.partitions);
  const tables = tablesOf(schema);
  return guarded('migrate', pool, () =>
    inTransaction(pool, (client) => migrateLocked(client, schema, tables, wanted)),
  );
}

async function migrateLocked(
  client: ClientBase,
  schema: string,
  t: Tables,
  wanted: number | undefined,
): Promise<MigrateResult> {
  const privilege = `CREATE on database (for a new schema) or on schema "${schema}"`;
  await run(
    client,
    { label: 'migrate: lock', privilege, text: 'SELECT pg_advisory_xact_lock($1, hashtext($2))' },
    [LOCK_CLASS, schema],
  );
  const [state] = await run<{ has_schema: boolean; has_table: boolean }>(
    client,
    {
      label: 'migrate: inspect',
      privilege,
      text: `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS has_schema,
                    to_regclass($2) IS NOT NULL AS has_table`,
    },
    [schema, `${t.migrations}`],
  );
  if (state?.has_schema !== true) {
    await run(client, {
      label: `migrate: create schema "${schema}"`,
      privilege: 'CREATE on the database',
      text: `CREATE SCHEMA ${t.schema}`,
    });
  }
  if (state?.has_table !== true) {
    await run(client, {
      label: 'migrate: create schema_migrations',
      privilege: `CREATE on schema "${schema}"`,
      text: `CREATE TABLE ${t.migrations} (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`,
    });
  }
  const [current] = await run<{ version: number | null }>(client, {
    label: 'migrate: read version',
    privilege: `SELECT on ${t.migrations}`,
    text: `SELECT max(version) AS version FROM ${t.migrations}`,
  });
  const fromVersion = current?.version ?? 0;
  if (fromVersion > SCHEMA_VERSION) throw new SchemaVersionError(schema, fromVersion, SCHEMA_VERSION);

  const applied: number[] = [];
  for (const step of STEPS) {
    if (step.version <= fromVersion) continue;
    for (const text of step.up(t, wanted ?? DEFAULTS.partitions)) {
      await run(client, {
        label: `migrate: step ${step.version} (${step.name})`,
        privilege: `CREATE on schema "${schema}"`,
        text,
      });
    }
    await run(
      client,
      {
        label: 'migrate: record step',
        privilege: `INSERT on ${t.migrations}`,
        text: `INSERT INTO ${t.migrations} (version, name) VALUES ($1, $2)`,
      },
      [step.version, step.name],
    );
    applied.push(step.version);
  }

  const [meta] = await run<{ partitions: number; epoch: number; restored: boolean }>(
    client,
    storeStatements(t).meta,
  );
  if (meta === undefined) throw new SchemaVersionError(schema, 0, SCHEMA_VERSION);
  if (wanted !== undefined && wanted !== meta.partitions) {
    throw new InvalidOptionError(
      'migrate()',
      'partitions',
      `is ${wanted}, but schema "${schema}" was created with ${meta.partitions} partitions, which cannot change; leave the option out or pass ${meta.partitions}`,
    );
  }
  // A log copied from another cluster holds transaction ids this one has not handed out yet: new appends would
  // sort before it, so new events get the next epoch.
  const epochStarted = meta.restored;
  const epoch = epochStarted ? await startEpoch(client, t) : meta.epoch;
  return {
    schema,
    fromVersion,
    toVersion: SCHEMA_VERSION,
    applied,
    partitions: meta.partitions,
    epoch,
    epochStarted,
  };
}

async function startEpoch(client: ClientBase, t: Tables): Promise<number> {
  const [row] = await run<{ epoch: number }>(client, {
    label: 'migrate: start a new epoch',
    privilege: `UPDATE on ${t.meta}`,
    text: `UPDATE ${t.meta} SET epoch = epoch + 1, epoch_started_at = now() RETURNING epoch`,
  });
  if (row === undefined) throw new Error(`${t.meta} has no row`);
  return row.epoch;
}

import { InvalidOptionError } from '@relaybus/core';

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;
const MAX_IDENTIFIER_BYTES = 63;
const encoder = new TextEncoder();

/**
 * Checks that a name taken from options is a plain lowercase Postgres identifier and returns it. Names are
 * quoted as well when they reach SQL, so this check is what keeps them from being interpreted.
 *
 * @throws `InvalidOptionError` naming the option when the name does not match `^[a-z_][a-z0-9_]{0,62}$`
 * or starts with `pg_` (reserved for system schemas).
 * @example
 * ```ts
 * const schema = checkIdentifier('migrate()', 'schema', options.schema);
 * ```
 */
export function checkIdentifier(where: string, option: string, value: unknown): string {
  if (typeof value !== 'string' || !IDENTIFIER.test(value)) {
    throw new InvalidOptionError(
      where,
      option,
      `must match /^[a-z_][a-z0-9_]{0,62}$/ (lowercase letters, digits and underscores, at most 63 characters), got ${JSON.stringify(value)}`,
    );
  }
  if (value.startsWith('pg_')) {
    throw new InvalidOptionError(
      where,
      option,
      `must not start with "pg_", which Postgres reserves for system schemas; got "${value}"`,
    );
  }
  return value;
}

/**
 * Quotes an identifier for SQL. Callers pass only names that {@link checkIdentifier} accepted, so quoting is a
 * second line of defence, not the only one.
 *
 * @example
 * ```ts
 * quoteIdentifier('relaybus'); // '"relaybus"'
 * ```
 */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * The qualified, quoted names of every table in a relaybus schema.
 *
 * @example
 * ```ts
 * const t = tablesOf('relaybus');
 * await pool.query(`SELECT count(*) FROM ${t.events}`);
 * ```
 */
export interface Tables {
  readonly schema: string;
  readonly migrations: string;
  readonly meta: string;
  readonly events: string;
  readonly streams: string;
  readonly checkpoints: string;
  readonly relayLeases: string;
  readonly relayDeadLetters: string;
  readonly inbox: string;
  readonly snapshots: string;
  /** The append function (migration 2). */
  readonly appendEvents: string;
  /** The global read function (migration 3). */
  readonly readPage: string;
}

/**
 * Builds the {@link Tables} of a schema that {@link checkIdentifier} accepted.
 *
 * @example
 * ```ts
 * const { events } = tablesOf('relaybus'); // '"relaybus"."events"'
 * ```
 */
export function tablesOf(schema: string): Tables {
  const q = quoteIdentifier(schema);
  const table = (name: string): string => `${q}.${quoteIdentifier(name)}`;
  return {
    schema: q,
    migrations: table('schema_migrations'),
    meta: table('meta'),
    events: table('events'),
    streams: table('streams'),
    checkpoints: table('checkpoints'),
    relayLeases: table('relay_leases'),
    relayDeadLetters: table('relay_dead_letters'),
    inbox: table('inbox'),
    snapshots: table('snapshots'),
    appendEvents: table('append_events'),
    readPage: table('read_page'),
  };
}

/**
 * The LISTEN/NOTIFY channel appends to `schema` notify: `relaybus_<schema>`, shortened with a hash when that
 * would exceed Postgres' 63-byte identifier limit. Unquoted-safe (lowercase letters, digits, underscores).
 *
 * @example
 * ```ts
 * notifyChannel('relaybus'); // 'relaybus_relaybus'
 * ```
 */
export function notifyChannel(schema: string): string {
  const channel = `relaybus_${schema}`;
  if (channel.length <= MAX_IDENTIFIER_BYTES) return channel;
  const hash = fnv1a32(schema).toString(16).padStart(8, '0');
  return `${channel.slice(0, MAX_IDENTIFIER_BYTES - hash.length - 1)}_${hash}`;
}

/**
 * 32-bit FNV-1a over the UTF-8 bytes of `text`: small, fast and stable across platforms and releases, which is
 * all partitioning and channel names need.
 *
 * @example
 * ```ts
 * fnv1a32('task-1') % 16;
 * ```
 */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of encoder.encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * The partition of an event: its ordering key (its `key`, else its stream) hashed with 32-bit FNV-1a over UTF-8,
 * mixed with MurmurHash3's finaliser (FNV's low bits depend only on the low bits of each byte, and partition
 * counts are often powers of two), modulo the schema's partition count. Events of one key always land in one
 * partition, and relays lease partitions.
 *
 * @example
 * ```ts
 * partitionOf(event.key ?? stream, 16);
 * ```
 */
export function partitionOf(key: string, partitions: number): number {
  let hash = fnv1a32(key);
  hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b);
  hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35);
  return ((hash ^ (hash >>> 16)) >>> 0) % partitions;
}

/** First key of the two-part advisory locks that serialise appends per stream (ASCII "RBst"). */
export const STREAM_LOCK_CLASS = 0x52427374;

/**
 * The second key of a stream's append lock: FNV-1a of schema and stream, as a signed 32-bit integer. The append
 * function takes the two-part advisory lock `(STREAM_LOCK_CLASS, key)` for the rest of the transaction. It needs
 * no transaction id, so the appender's id is assigned only after it holds the lock, and is therefore larger than
 * every earlier appender's: stream versions and transaction ids agree.
 *
 * @example
 * ```ts
 * await pool.query('SELECT pg_advisory_xact_lock($1, $2)', [STREAM_LOCK_CLASS, streamLockKey('relaybus', 'task-1')]);
 * ```
 */
export function streamLockKey(schema: string, stream: string): number {
  return fnv1a32(`${schema}\u0000${stream}`) | 0;
}

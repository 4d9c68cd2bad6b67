import type { Tables } from '../identifiers';
import { AFTER_OLDER_EPOCH, EVENT_COLUMNS, XMIN } from '../sql/event-columns';
import type { Statement } from '../sql/query';

/**
 * Every statement a relay sends, built once per relay. Lease rows with `partition >= 0` are key partitions; rows
 * with a negative `partition` are member heartbeats (one per live relay instance), which let each instance compute
 * its fair share. Ordering keys travel as text.
 *
 * @example
 * ```ts
 * const sql = relayStatements(tablesOf('relaybus'));
 * ```
 */
export interface RelayStatements {
  /** `[]` → `{ partitions, epoch }`. */
  readonly meta: Statement;
  /** `[relay, partitions]`: creates the missing lease rows. */
  readonly ensureLeases: Statement;
  /** `[relay, member partition, owner, lease ms]`: upserts this instance's member row. */
  readonly heartbeatMember: Statement;
  /** `[relay]` → `{ members }`: live instances. */
  readonly countMembers: Statement;
  /** `[relay, owner, lease ms]` → `{ partition, token }` still held, with their expiry pushed out. */
  readonly renew: Statement;
  /**
   * `[relay, owner, lease ms, how many]` → claimed `{ partition, token, position, attempt_event_id, attempts,
   * taken_over }`; `taken_over` when the previous owner never gave the partition back.
   */
  readonly claim: Statement;
  /** `[relay, owner, partition, token]`: gives a partition back. */
  readonly release: Statement;
  /** `[relay, owner, member partition]`: gives back every partition of this instance and removes its member row. */
  readonly leave: Statement;
  /** `[epoch, tx, id, limit, partition]` → rows after a position of the current epoch. */
  readonly readCurrent: Statement;
  /** `[epoch, tx, id, limit, current epoch, partition]` → rows after a position of an older epoch. */
  readonly readOlder: Statement;
  /**
   * `[epoch, partitions[], tx ids[], row ids[], limit]` → up to `limit` rows of each partition after its position
   * (all of the current epoch), each with its `lease_partition`: one round trip for every partition a relay holds.
   */
  readonly readMany: Statement;
  /** `[relay, owner, partition, token, old position, new position, lease ms]` → 1 row when advanced. */
  readonly advance: Statement;
  /**
   * `[relay, owner, lease ms, partitions[], tokens[], old positions[], new positions[]]` → one row per partition
   * advanced: the compare-and-set of `advance` for many partitions in one statement.
   */
  readonly advanceMany: Statement;
  /**
   * `[relay, owner, partition, token, position, event id, attempts]` → 1 row when marked: records the event about to
   * be published (`attempt_event_id`) and the publishes of it started and not finished (`attempts`).
   */
  readonly markInFlight: Statement;
  /** `[relay, owner, partition, token, old position, new position, lease ms, event id, stream, type, key, attempts, error]`. */
  readonly park: Statement;
}

const PARTITION_COLUMNS = `${EVENT_COLUMNS}, e.event_id, e.type, e.key`;

/**
 * Builds the {@link RelayStatements} of a schema.
 *
 * @example
 * ```ts
 * await pool.query(relayStatements(tables).ensureLeases.text, ['orders', 16]);
 * ```
 */
export function relayStatements(t: Tables): RelayStatements {
  const leases = `SELECT, INSERT, UPDATE, DELETE on ${t.relayLeases}`;
  const lease = (label: string, text: string): Statement => ({ label, privilege: leases, text });
  const order = 'ORDER BY e.epoch, e.tx_id, e.id LIMIT $4';
  // In the current epoch the lower bound is a row comparison over the whole (partition, epoch, tx_id, id) key:
  // only events_partition_order can take it as an index condition, so the planner never prefers scanning the
  // primary key and filtering on partition (which reads the whole log ahead for a sparse partition).
  const current = `e.partition = $5::integer AND e.epoch = $1::integer
    AND (e.partition, e.epoch, e.tx_id, e.id) > ($5::integer, $1::integer, $2::xid8, $3::bigint)
    AND e.tx_id < ${XMIN}`;
  const read = (range: 'current' | 'older'): Statement => ({
    label: 'relay: read a partition',
    privilege: `SELECT on ${t.events}`,
    text: `SELECT ${PARTITION_COLUMNS} FROM ${t.events} e
      WHERE ${range === 'current' ? current : `e.partition = $6::integer AND ${AFTER_OLDER_EPOCH}`} ${order}`,
  });
  const cas = `relay = $1 AND owner = $2 AND partition = $3 AND token = $4::bigint
    AND position IS NOT DISTINCT FROM $5::text`;
  return {
    meta: {
      label: 'relay: read the schema settings',
      privilege: `SELECT on ${t.meta}`,
      text: `SELECT partitions, epoch FROM ${t.meta}`,
    },
    ensureLeases: lease(
      'relay: create lease rows',
      `INSERT INTO ${t.relayLeases} (relay, partition)
       SELECT $1, g FROM generate_series(0, $2::integer - 1) g ON CONFLICT DO NOTHING`,
    ),
    heartbeatMember: lease(
      'relay: heartbeat',
      `INSERT INTO ${t.relayLeases} AS l (relay, partition, owner, expires_at)
       VALUES ($1, $2, $3, now() + $4::integer * interval '1 millisecond')
       ON CONFLICT (relay, partition) DO UPDATE
       SET owner = EXCLUDED.owner, expires_at = EXCLUDED.expires_at, updated_at = now()`,
    ),
    countMembers: lease(
      'relay: count members',
      `SELECT count(*)::integer AS members FROM ${t.relayLeases}
       WHERE relay = $1 AND partition < 0 AND expires_at > now()`,
    ),
    renew: lease(
      'relay: renew leases',
      `UPDATE ${t.relayLeases} SET expires_at = now() + $3::integer * interval '1 millisecond'
       WHERE relay = $1 AND owner = $2 AND partition >= 0
       RETURNING partition, token::text AS token`,
    ),
    // Claiming counts nothing: whether the previous owner died publishing is known from what it marked in flight
    // (`attempt_event_id`, `attempts`), which the claim returns; `taken_over` says it never gave the partition back.
    claim: lease(
      'relay: claim partitions',
      `UPDATE ${t.relayLeases} l
       SET owner = $2, token = l.token + 1, expires_at = now() + $3::integer * interval '1 millisecond',
         updated_at = now()
       FROM (
         SELECT partition, owner AS previous_owner FROM ${t.relayLeases}
         WHERE relay = $1 AND partition >= 0 AND (owner IS NULL OR expires_at IS NULL OR expires_at < now())
         ORDER BY random() LIMIT $4 FOR UPDATE SKIP LOCKED
       ) free
       WHERE l.relay = $1 AND l.partition = free.partition
       RETURNING l.partition, l.token::text AS token, l.position, l.attempt_event_id, l.attempts,
         COALESCE(free.previous_owner <> $2, false) AS taken_over`,
    ),
    release: lease(
      'relay: release a partition',
      `UPDATE ${t.relayLeases} SET owner = NULL, expires_at = NULL, updated_at = now()
       WHERE relay = $1 AND owner = $2 AND partition = $3 AND token = $4::bigint`,
    ),
    // One statement, so a close that is retried (after a dropped connection) gives back everything or nothing.
    leave: lease(
      'relay: give back leases and leave',
      `WITH released AS (
         UPDATE ${t.relayLeases} SET owner = NULL, expires_at = NULL, updated_at = now()
         WHERE relay = $1 AND owner = $2 AND partition >= 0 RETURNING partition
       )
       DELETE FROM ${t.relayLeases} WHERE relay = $1 AND partition = $3 AND owner = $2`,
    ),
    readCurrent: read('current'),
    readOlder: read('older'),
    readMany: {
      label: 'relay: read partitions',
      privilege: `SELECT on ${t.events}`,
      text: `SELECT c.partition AS lease_partition, r.*
        FROM unnest($2::integer[], $3::xid8[], $4::bigint[]) AS c(partition, tx_id, id)
        CROSS JOIN LATERAL (
          SELECT ${PARTITION_COLUMNS} FROM ${t.events} e
          WHERE e.partition = c.partition AND e.epoch = $1::integer
            AND (e.partition, e.epoch, e.tx_id, e.id) > (c.partition, $1::integer, c.tx_id, c.id)
            AND e.tx_id < ${XMIN}
          ORDER BY e.epoch, e.tx_id, e.id LIMIT $5
        ) r`,
    },
    advance: lease(
      'relay: advance the checkpoint',
      `UPDATE ${t.relayLeases}
       SET position = $6, attempts = 0, attempt_event_id = NULL, updated_at = now(),
         expires_at = now() + $7::integer * interval '1 millisecond'
       WHERE ${cas}
       RETURNING partition`,
    ),
    advanceMany: lease(
      'relay: advance checkpoints',
      `UPDATE ${t.relayLeases} l
       SET position = c.new_position, attempts = 0, attempt_event_id = NULL, updated_at = now(),
         expires_at = now() + $3::integer * interval '1 millisecond'
       FROM unnest($4::integer[], $5::bigint[], $6::text[], $7::text[])
         AS c(partition, token, old_position, new_position)
       WHERE l.relay = $1 AND l.owner = $2 AND l.partition = c.partition AND l.token = c.token
         AND l.position IS NOT DISTINCT FROM c.old_position
       RETURNING l.partition`,
    ),
    markInFlight: lease(
      'relay: mark an event in flight',
      `UPDATE ${t.relayLeases} SET attempt_event_id = $6, attempts = $7::integer, updated_at = now()
       WHERE ${cas} RETURNING partition`,
    ),
    park: {
      label: 'relay: park a poison event',
      privilege: `${leases}; INSERT on ${t.relayDeadLetters}`,
      text: `WITH advanced AS (
          UPDATE ${t.relayLeases}
          SET position = $6, attempts = 0, attempt_event_id = NULL, updated_at = now(),
            expires_at = now() + $7::integer * interval '1 millisecond'
          WHERE ${cas}
          RETURNING partition
        ), parked AS (
          INSERT INTO ${t.relayDeadLetters} (relay, partition, event_id, position, stream, type, key, attempts, error)
          SELECT $1, $3, $8, $6, $9, $10, $11, $12, $13::jsonb FROM advanced
          ON CONFLICT (relay, event_id) DO NOTHING
        )
        SELECT partition FROM advanced`,
    },
  };
}

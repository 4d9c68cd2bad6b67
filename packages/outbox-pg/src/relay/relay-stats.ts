import type { Pool } from 'pg';
import type { Tables } from '../identifiers';
import { run } from '../sql/query';
import type { Lease } from './leases';

/**
 * Lag of one partition of a relay.
 *
 * @example
 * ```ts
 * for (const p of stats.partitions) if (p.secondsBehind > 60) alert(p.partition);
 * ```
 */
export interface PartitionLag {
  /** The partition number. */
  readonly partition: number;
  /** The instance holding it (`null` when free), live or not. */
  readonly owner: string | null;
  /** Whether the lease is unexpired. */
  readonly leased: boolean;
  /** The checkpoint: last position published (`null` before the first). */
  readonly position: string | null;
  /** Committed events after the checkpoint, including those still held back by an older open transaction. */
  readonly eventsBehind: number;
  /** Age of the oldest of those events in seconds; 0 when none. */
  readonly secondsBehind: number;
}

/**
 * The oldest transaction in the cluster that holds a transaction id: while it is open, no relay (and no `readAll`)
 * sees events of younger transactions.
 *
 * @example
 * ```ts
 * if (stats.oldestTransaction && stats.oldestTransaction.ageSeconds > 30) log.warn('held back by', stats.oldestTransaction.pid);
 * ```
 */
export interface OldestTransaction {
  /** Backend pid (`pg_terminate_backend(pid)` ends it). */
  readonly pid: number;
  /** Seconds since its transaction began; 0 when the role may not see other roles' sessions. */
  readonly ageSeconds: number;
  /** Its `backend_xid`, as text. */
  readonly xid: string;
  /** Its state, such as `idle in transaction`; `null` when not visible to this role. */
  readonly state: string | null;
}

/**
 * What {@link OutboxRelay.stats} reports.
 *
 * @example
 * ```ts
 * const { eventsBehind, secondsBehind, parked } = await relay.stats();
 * ```
 */
export interface OutboxRelayStats {
  /** The relay name. */
  readonly relay: string;
  /** Partitions this instance holds. */
  readonly ownedPartitions: ReadonlyArray<number>;
  /** Lag of every partition of the relay name, in partition order. */
  readonly partitions: ReadonlyArray<PartitionLag>;
  /** Sum of `eventsBehind` over all partitions. */
  readonly eventsBehind: number;
  /** Largest `secondsBehind` over all partitions. */
  readonly secondsBehind: number;
  /** The oldest writing transaction in the cluster, if any. */
  readonly oldestTransaction: OldestTransaction | undefined;
  /** Events parked in `relay_dead_letters` for this relay name and not redriven. */
  readonly parked: number;
}

interface LagRow {
  readonly partition: number;
  readonly owner: string | null;
  readonly leased: boolean | null;
  readonly position: string | null;
  readonly events_behind: string;
  readonly seconds_behind: number;
}

/**
 * Reads the stats of a relay name (three short queries, no transaction held).
 *
 * @example
 * ```ts
 * const stats = await readRelayStats(pool, tablesOf('relaybus'), 'default', new Map());
 * ```
 */
export async function readRelayStats(
  pool: Pool,
  t: Tables,
  relay: string,
  owned: ReadonlyMap<number, Lease>,
): Promise<OutboxRelayStats> {
  const privilege = `SELECT on ${t.relayLeases}, ${t.events}, ${t.relayDeadLetters}`;
  const rows = await run<LagRow>(
    pool,
    {
      label: 'relay: lag',
      privilege,
      // Positions are "EEEE.TTTT….IIII…"; xid8 input reads leading zeros as octal, so go through numeric.
      text: `WITH l AS (
          SELECT partition, owner, position, expires_at > now() AS leased,
            COALESCE(split_part(position, '.', 1)::integer, 0) AS p_epoch,
            COALESCE(split_part(position, '.', 2)::numeric::text, '0')::xid8 AS p_tx,
            COALESCE(split_part(position, '.', 3)::bigint, 0) AS p_id
          FROM ${t.relayLeases} WHERE relay = $1 AND partition >= 0
        )
        SELECT l.partition, l.owner, l.leased, l.position, behind.n::text AS events_behind,
          COALESCE(extract(epoch FROM now() - behind.oldest), 0)::float8 AS seconds_behind
        FROM l CROSS JOIN LATERAL (
          SELECT count(*) AS n, min(e.created_at) AS oldest FROM ${t.events} e
          WHERE e.partition = l.partition AND (e.epoch, e.tx_id, e.id) > (l.p_epoch, l.p_tx, l.p_id)
        ) behind
        ORDER BY l.partition`,
    },
    [relay],
  );
  const [oldest] = await run<{ pid: number; age: number | null; xid: string; state: string | null }>(pool, {
    label: 'relay: oldest transaction',
    privilege: 'SELECT on pg_stat_activity (pg_read_all_stats to see other roles)',
    text: `SELECT pid, extract(epoch FROM now() - xact_start)::float8 AS age, backend_xid::text AS xid, state
      FROM pg_stat_activity WHERE backend_xid IS NOT NULL
      ORDER BY age(backend_xid) DESC LIMIT 1`,
  });
  const [parked] = await run<{ n: string }>(
    pool,
    {
      label: 'relay: parked count',
      privilege,
      text: `SELECT count(*)::text AS n FROM ${t.relayDeadLetters} WHERE relay = $1 AND redriven_at IS NULL`,
    },
    [relay],
  );
  const partitions = rows.map(
    (row): PartitionLag => ({
      partition: row.partition,
      owner: row.owner,
      leased: row.leased === true,
      position: row.position,
      eventsBehind: Number(row.events_behind),
      secondsBehind: Math.max(0, row.seconds_behind),
    }),
  );
  return {
    relay,
    ownedPartitions: [...owned.keys()].sort((a, b) => a - b),
    partitions,
    eventsBehind: partitions.reduce((sum, p) => sum + p.eventsBehind, 0),
    secondsBehind: partitions.reduce((max, p) => Math.max(max, p.secondsBehind), 0),
    oldestTransaction:
      oldest === undefined
        ? undefined
        : { pid: oldest.pid, ageSeconds: Math.max(0, oldest.age ?? 0), xid: oldest.xid, state: oldest.state },
    parked: Number(parked?.n ?? 0),
  };
}

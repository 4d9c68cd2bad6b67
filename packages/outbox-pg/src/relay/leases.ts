import type { Pool } from 'pg';
import { fnv1a32 } from '../identifiers';
import { run } from '../sql/query';
import type { RelayStatements } from './relay-statements';

/** A partition this instance holds, with its checkpoint and retry state (in memory). */
export interface Lease {
  readonly partition: number;
  /** Fencing token: every claim increments it, and every checkpoint write must present it. */
  token: string;
  /** The checkpoint: the last position published, `null` before the first. */
  position: string | null;
  /** Owners that died at this position (taken over without a release); reset when the position advances. */
  attempts: number;
  /** Publish failures of the event at `failingEventId`. */
  failures: number;
  failingEventId: string | undefined;
  firstFailureAt: number;
  retryAt: number;
}

/** What lease maintenance needs. */
export interface LeaseContext {
  readonly pool: Pool;
  readonly sql: RelayStatements;
  readonly relay: string;
  readonly owner: string;
  readonly leaseMs: number;
}

/**
 * The member row of an owner: a negative partition number derived from the owner id (partitions of the log are
 * never negative).
 *
 * @example
 * ```ts
 * memberPartition('c0ffee-...'); // -1 - (hash % 2^30)
 * ```
 */
export function memberPartition(owner: string): number {
  return -1 - (fnv1a32(owner) % 0x40000000);
}

/**
 * Heartbeats this instance, renews its leases, gives back partitions beyond its fair share and claims free or
 * expired ones up to it. Mutates `owned`; returns the partitions claimed.
 *
 * @example
 * ```ts
 * await rebalance(context, owned, 16);
 * ```
 */
export async function rebalance(
  context: LeaseContext,
  owned: Map<number, Lease>,
  partitions: number,
  release: (lease: Lease) => boolean,
): Promise<number[]> {
  const { pool, sql, relay, owner, leaseMs } = context;
  await run(pool, sql.heartbeatMember, [relay, memberPartition(owner), owner, leaseMs]);
  await renew(context, owned);
  const [row] = await run<{ members: number }>(pool, sql.countMembers, [relay]);
  const share = Math.ceil(partitions / Math.max(1, row?.members ?? 1));
  // Give back the excess first, so a newcomer can take it at its next step.
  for (const lease of [...owned.values()].slice(share)) {
    if (!release(lease)) continue;
    owned.delete(lease.partition);
    await run(pool, sql.release, [relay, owner, lease.partition, lease.token]);
  }
  const wanted = share - owned.size;
  if (wanted <= 0) return [];
  const claimed = await run<{ partition: number; token: string; position: string | null; attempts: number }>(
    pool,
    sql.claim,
    [relay, owner, leaseMs, wanted],
  );
  for (const c of claimed) {
    owned.set(c.partition, {
      partition: c.partition,
      token: c.token,
      position: c.position,
      attempts: c.attempts,
      failures: 0,
      failingEventId: undefined,
      firstFailureAt: 0,
      retryAt: 0,
    });
  }
  return claimed.map((c) => c.partition);
}

/**
 * Pushes out the expiry of every lease this instance holds; drops those another instance took over meanwhile.
 *
 * @example
 * ```ts
 * setInterval(() => void renew(context, owned), leaseMs / 3);
 * ```
 */
export async function renew(context: LeaseContext, owned: Map<number, Lease>): Promise<void> {
  const { pool, sql, relay, owner, leaseMs } = context;
  await run(pool, sql.heartbeatMember, [relay, memberPartition(owner), owner, leaseMs]);
  const held = await run<{ partition: number; token: string }>(pool, sql.renew, [relay, owner, leaseMs]);
  const tokens = new Map(held.map((row) => [row.partition, row.token]));
  for (const [partition, lease] of owned) {
    if (tokens.get(partition) !== lease.token) owned.delete(partition);
  }
}

/**
 * Gives back every lease and removes the member row.
 *
 * @example
 * ```ts
 * await releaseAll(context, owned);
 * ```
 */
export async function releaseAll(context: LeaseContext, owned: Map<number, Lease>): Promise<void> {
  const { pool, sql, relay, owner } = context;
  for (const lease of [...owned.values()]) {
    owned.delete(lease.partition);
    await run(pool, sql.release, [relay, owner, lease.partition, lease.token]);
  }
  await run(pool, sql.leave, [relay, memberPartition(owner), owner]);
}

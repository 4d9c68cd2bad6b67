import type { RetryPolicy } from '@relaybus/core';
import type { Pool } from 'pg';
import { SchemaVersionError } from '../errors';
import { isUnavailable } from '../failures';
import { fnv1a32 } from '../identifiers';
import { SCHEMA_VERSION } from '../migrations';
import { pgCode, run } from '../sql/query';
import type { RelayStatements } from './relay-statements';

/** An event marked in flight in its lease row: its id and the publishes of it started and not finished. */
export interface InFlight {
  readonly eventId: string;
  readonly attempts: number;
}

/** A partition this instance holds, with its checkpoint and retry state (in memory). */
export interface Lease {
  readonly partition: number;
  /** Fencing token: every claim increments it, and every checkpoint write must present it. */
  token: string;
  /** The checkpoint: the last position published, `null` before the first. */
  position: string | null;
  /**
   * Events still to publish one at a time, each marked in flight first (see `probe`): set to the batch size after
   * a takeover from an owner that died holding the partition, so a crash loop is pinned to one event.
   */
  probing: number;
  /** What the lease row says was in flight (`attempt_event_id`, `attempts`), as claimed or last marked. */
  inFlight: InFlight | undefined;
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
  readonly leaseTtlMs: number;
  /** Events a probe after a takeover covers: the most a dead owner can have had in flight in one partition. */
  readonly batchSize: number;
}

/**
 * The schema's partition count and current epoch, as a relay needs them.
 *
 * @throws {@link SchemaVersionError} when the schema has no relaybus tables.
 * @example
 * ```ts
 * const { partitions, epoch } = await readMeta(context, 'relaybus');
 * ```
 */
export async function readMeta(
  context: LeaseContext,
  schema: string,
): Promise<{ partitions: number; epoch: number }> {
  try {
    const [meta] = await run<{ partitions: number; epoch: number }>(context.pool, context.sql.meta);
    if (meta === undefined) throw new SchemaVersionError(schema, 0, SCHEMA_VERSION);
    return meta;
  } catch (error) {
    // 42P01 undefined_table, 3F000 invalid_schema_name: nothing migrated yet.
    if (pgCode(error) === '42P01' || pgCode(error) === '3F000') {
      throw new SchemaVersionError(schema, 0, SCHEMA_VERSION, { cause: error });
    }
    throw error;
  }
}

interface ClaimedRow {
  readonly partition: number;
  readonly token: string;
  readonly position: string | null;
  readonly attempt_event_id: string | null;
  readonly attempts: number;
  readonly taken_over: boolean;
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
  const { pool, sql, relay, owner, leaseTtlMs } = context;
  await run(pool, sql.heartbeatMember, [relay, memberPartition(owner), owner, leaseTtlMs]);
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
  const claimed = await run<ClaimedRow>(pool, sql.claim, [relay, owner, leaseTtlMs, wanted]);
  for (const c of claimed) {
    owned.set(c.partition, {
      partition: c.partition,
      token: c.token,
      position: c.position,
      // The previous owner never gave the partition back: it may have died publishing, so go carefully.
      probing: c.taken_over ? context.batchSize : 0,
      inFlight:
        c.attempt_event_id === null ? undefined : { eventId: c.attempt_event_id, attempts: c.attempts },
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
 * setInterval(() => void renew(context, owned), leaseTtlMs / 3);
 * ```
 */
export async function renew(context: LeaseContext, owned: Map<number, Lease>): Promise<void> {
  const { pool, sql, relay, owner, leaseTtlMs } = context;
  await run(pool, sql.heartbeatMember, [relay, memberPartition(owner), owner, leaseTtlMs]);
  const held = await run<{ partition: number; token: string }>(pool, sql.renew, [relay, owner, leaseTtlMs]);
  const tokens = new Map(held.map((row) => [row.partition, row.token]));
  for (const [partition, lease] of owned) {
    if (tokens.get(partition) !== lease.token) owned.delete(partition);
  }
}

/**
 * Gives back every lease and removes the member row, in one statement; `owned` is emptied once it succeeded.
 *
 * @example
 * ```ts
 * await releaseAll(context, owned);
 * ```
 */
export async function releaseAll(context: LeaseContext, owned: Map<number, Lease>): Promise<void> {
  const { pool, sql, relay, owner } = context;
  await run(pool, sql.leave, [relay, owner, memberPartition(owner)]);
  owned.clear();
}

/**
 * {@link releaseAll}, retried on a new connection after a connection failure until `deadline` (epoch ms): after an
 * outage the pool may hand out a connection that died without it noticing, and the database is up again.
 *
 * @throws the last failure when it is not a connection failure, or the deadline comes first.
 * @example
 * ```ts
 * await releaseAllBefore(context, owned, Date.now() + 5_000, retryPolicy);
 * ```
 */
export async function releaseAllBefore(
  context: LeaseContext,
  owned: Map<number, Lease>,
  deadline: number,
  retry: RetryPolicy,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await releaseAll(context, owned);
      return;
    } catch (error) {
      const delayMs = Math.min(
        retry.delayMs(attempt, error instanceof Error ? error : new Error(String(error))),
        1_000,
      );
      if (!isUnavailable(error) || Date.now() + delayMs >= deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}

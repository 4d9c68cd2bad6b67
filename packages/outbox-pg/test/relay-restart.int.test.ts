import type { Logger } from '@relaybus/core';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOutboxRelay, migrate, postgresEventStore } from '../src/index';
import { startCutProxy } from './support/cut-proxy';
import { envelope } from './support/events';
import type { OwnPostgres } from './support/own-postgres';
import { startOwnPostgres } from './support/own-postgres';
import { recordingTransport, until } from './support/recording-transport';

// Postgres goes away under a running store and relay: restarted (its own cluster, never the shared one), or a
// network blip that cuts pooled connections without the pool noticing.

let server: OwnPostgres | undefined;
beforeAll(async () => {
  server = await startOwnPostgres();
}, 60_000);
afterAll(() => server?.destroy());

/** A logger that keeps warnings (message and error code) and drops the rest. */
function recordingLogger(): Logger & { readonly warnings: Array<{ message: string; code: unknown }> } {
  const warnings: Array<{ message: string; code: unknown }> = [];
  const keep = (message: string, fields?: Record<string, unknown>): void => {
    warnings.push({ message, code: (fields?.['error'] as { code?: unknown } | undefined)?.code });
  };
  return { warnings, debug() {}, info() {}, warn: keep, error: keep };
}

function ownPool(port = server?.port ?? 0): pg.Pool {
  return new pg.Pool({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres', max: 6 });
}

/** Store, relay and the events appended before and after `outage()`, delivered; returns the relay's warnings. */
async function survive(pool: pg.Pool, schema: string, outage: () => Promise<void>) {
  const logger = recordingLogger();
  await migrate(pool, { schema, partitions: 4 });
  const store = postgresEventStore({ pool, schema, logger });
  const transport = recordingTransport();
  const relay = createOutboxRelay({
    pool,
    schema,
    transport,
    leaseTtlMs: 1_500,
    retry: { backoff: { initialDelayMs: 50, maxDelayMs: 300 } },
    pollIntervalMs: 200,
    logger,
  });
  await relay.start();
  await store.append('before', [envelope('r.x', 'b1'), envelope('r.x', 'b2')]);
  await until(() => transport.published.length === 2, 'events before the outage');
  await outage();
  // Appended by another process's store: no in-process hint reaches the relay.
  const other = ownPool();
  await postgresEventStore({ pool: other, schema, notify: false, listen: false }).append('after', [
    envelope('r.x', 'a1'),
    envelope('r.x', 'a2'),
  ]);
  await other.end();
  await until(() => transport.published.length >= 4, 'events after the outage', 20_000);
  const labels = transport.events().map((e) => String((e.data as { label: string }).label));
  expect([...new Set(labels)].sort()).toEqual(['a1', 'a2', 'b1', 'b2']);
  return { store, relay, logger };
}

describe('Postgres restarts and blips', () => {
  it('the documented set-up (a pool with an error listener) survives a restart and closes cleanly', async () => {
    const pool = ownPool();
    const idleErrors: Error[] = [];
    pool.on('error', (error) => idleErrors.push(error));
    try {
      const { store, relay, logger } = await survive(pool, 'documented', async () => {
        server?.stop();
        server?.start();
      });
      expect(idleErrors.length, 'the restart ended idle connections').toBeGreaterThan(0);
      expect(
        logger.warnings.filter((w) => /idle connection/.test(w.message)),
        'the app listens itself',
      ).toEqual([]);
      const before = logger.warnings.length;
      await relay.close();
      await store.close();
      expect(logger.warnings.slice(before), 'close() after the outage warns of nothing').toEqual([]);
      expect(pool.listenerCount('error'), 'the store and relay took their listener away').toBe(1);
    } finally {
      await pool.end();
    }
  }, 60_000);

  it('a pool without an error listener does not crash the process: the store and relay report the failure', async () => {
    const pool = ownPool();
    try {
      const { store, relay, logger } = await survive(pool, 'unguarded', async () => {
        server?.stop();
        server?.start();
      });
      expect(logger.warnings).toContainEqual({
        message: expect.stringMatching(/^postgres pool: an idle connection to 127\.0\.0\.1:\d+ failed/),
        code: 'STORE_UNAVAILABLE',
      });
      await relay.close();
      await store.close();
      expect(pool.listenerCount('error')).toBe(0);
    } finally {
      await pool.end();
    }
  }, 60_000);

  it('close() after a blip that cut the pooled connections gives the leases back without a warning', async () => {
    const proxy = await startCutProxy(server?.port ?? 0);
    const pool = ownPool(proxy.port);
    pool.on('error', () => {});
    try {
      const { store, relay, logger } = await survive(pool, 'blip', async () => {});
      // Fill the pool with idle connections, then cut them all: the pool has not noticed when close() runs.
      await Promise.all(Array.from({ length: 4 }, () => pool.query('SELECT pg_sleep(0.05)')));
      proxy.cut();
      const before = logger.warnings.length;
      await relay.close();
      expect(logger.warnings.slice(before)).toEqual([]);
      const check = ownPool();
      const { rows } = await check.query(
        'SELECT count(*)::integer AS held FROM blip.relay_leases WHERE owner IS NOT NULL',
      );
      await check.end();
      expect(rows, 'every lease given back, the member row gone').toEqual([{ held: 0 }]);
      await store.close();
    } finally {
      await pool.end();
      await proxy.close();
    }
  }, 60_000);
});

import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createOutboxRelay, migrate, postgresEventStore } from '../src/index';
import { envelope } from './support/events';
import type { OwnPostgres } from './support/own-postgres';
import { startOwnPostgres } from './support/own-postgres';
import { recordingTransport, until } from './support/recording-transport';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
let server: OwnPostgres | undefined;
afterAll(() => server?.destroy());

describe('outbox relay: Postgres restart', () => {
  it('reconnects after a restart and catches up by itself', async () => {
    server = await startOwnPostgres();
    const pool = new pg.Pool({
      host: '127.0.0.1',
      port: server.port,
      user: 'postgres',
      database: 'postgres',
      max: 6,
    });
    pool.on('error', () => {});
    try {
      await migrate(pool, { schema: 'relaybus', partitions: 4 });
      const store = postgresEventStore({ pool, logger: quiet });
      const transport = recordingTransport();
      const relay = createOutboxRelay({
        pool,
        transport,
        leaseMs: 1_500,
        retryDelayMs: 50,
        maxRetryDelayMs: 300,
        pollIntervalMs: 200,
        logger: quiet,
      });
      await relay.start();
      await store.append('before', [envelope('r.x', 'b1'), envelope('r.x', 'b2')]);
      await until(() => transport.published.length === 2, 'events before the restart');

      server.stop();
      server.start();
      // Appended by another process's store right after the restart: no in-process hint reaches the relay.
      const other = new pg.Pool({
        host: '127.0.0.1',
        port: server.port,
        user: 'postgres',
        database: 'postgres',
      });
      await postgresEventStore({ pool: other, notify: false, listen: false }).append('after', [
        envelope('r.x', 'a1'),
        envelope('r.x', 'a2'),
      ]);
      await other.end();
      await until(() => transport.published.length >= 4, 'events after the restart', 20_000);
      const labels = transport.events().map((e) => String((e.data as { label: string }).label));
      expect([...new Set(labels)].sort()).toEqual(['a1', 'a2', 'b1', 'b2']);
      await relay.close();
      await store.close();
    } finally {
      await pool.end();
    }
  }, 60_000);
});

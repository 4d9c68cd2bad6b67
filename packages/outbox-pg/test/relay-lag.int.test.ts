import { metrics } from '@relaybus/core';
import { describe, expect, it } from 'vitest';
import { createOutboxRelay, postgresEventStore } from '../src/index';
import { useTestDatabase } from './support/database';
import { envelope } from './support/events';
import { recordingTransport, until } from './support/recording-transport';

const db = useTestDatabase();

describe('outbox relay: lag', () => {
  it('a long-running open transaction holds delivery back and shows in the stats and gauges', async () => {
    const schema = await db.newSchema({ partitions: 2 });
    const store = db.track(postgresEventStore({ pool: db.pool, schema, visibilityWaitMs: 0 }));
    const transport = recordingTransport();
    const relay = db.track(createOutboxRelay({ pool: db.pool, schema, transport, statsIntervalMs: 50 }));
    await relay.start();
    await db.holdingHorizon(async () => {
      const holder = await db.client();
      await holder.query('BEGIN');
      const [{ pid }] = (
        await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid, pg_current_xact_id()')
      ).rows as [{ pid: number }];
      await store.append('held', [envelope('lag.happened', 'h1')]);
      const stats = await until(
        async () => (await relay.stats()).eventsBehind === 1,
        'the held-back event counted as lag',
      ).then(() => relay.stats());
      expect(stats.oldestTransaction?.pid).toBe(pid);
      expect(stats.oldestTransaction?.ageSeconds).toBeGreaterThanOrEqual(0);
      expect(stats.partitions.reduce((n, p) => n + p.eventsBehind, 0)).toBe(1);
      expect(transport.published).toHaveLength(0);

      const m = metrics();
      const unregister = relay.registerMetrics(m);
      await until(() => m.prometheus().includes('relaybus_outbox_lag_events 1'), 'the lag gauge');
      expect(m.prometheus()).toMatch(/relaybus_outbox_oldest_transaction_seconds \d/);
      unregister();

      await holder.query('COMMIT');
      await until(() => transport.published.length === 1, 'the event once the transaction ended');
    });
    await until(async () => (await relay.stats()).eventsBehind === 0, 'lag back to zero');
  });
});

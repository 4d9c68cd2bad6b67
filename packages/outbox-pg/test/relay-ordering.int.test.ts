import { describe, expect, it } from 'vitest';
import { createOutboxRelay, postgresEventStore } from '../src/index';
import { useTestDatabase } from './support/database';
import { envelope } from './support/events';
import { recordingTransport, until } from './support/recording-transport';

const db = useTestDatabase({ max: 30 });

describe('outbox relay: ordering', () => {
  db.shareHorizonPerTest();

  it('delivers exactly the committed events of transactions that commit out of order, none skipped', async () => {
    const schema = await db.newSchema({ partitions: 4 });
    const store = db.track(postgresEventStore({ pool: db.pool, schema }));
    const transport = recordingTransport();
    const relay = db.track(createOutboxRelay({ pool: db.pool, schema, transport, leaseTtlMs: 2_000 }));
    await relay.start();

    const clients = await Promise.all([1, 2, 3, 4].map(() => db.client()));
    for (const [index, client] of clients.entries()) {
      await client.query('BEGIN');
      const n = index + 1;
      await store.append(
        `s${n}`,
        [envelope('test.happened', `t${n}-a`), envelope('test.happened', `t${n}-b`)],
        {
          transaction: client,
        },
      );
    }
    const [c1, c2, c3, c4] = clients;
    if (!c1 || !c2 || !c3 || !c4) throw new Error('clients missing');
    await c3.query('COMMIT');
    await c1.query('COMMIT');
    await c4.query('COMMIT');
    await c2.query('ROLLBACK');

    await until(() => transport.published.length >= 6, 'six messages');
    // Give a rolled-back or skipped event a chance to show up wrongly: the relay reads to the head.
    await until(async () => (await relay.stats()).eventsBehind === 0, 'relay caught up');
    const events = transport.events();
    const labels = events.map((e) => String((e.data as { label: string }).label));
    expect([...labels].sort()).toEqual(['t1-a', 't1-b', 't3-a', 't3-b', 't4-a', 't4-b']);
    for (const stream of ['s1', 's3', 's4']) {
      expect(events.filter((e) => e.stream === stream).map((e) => e.streamVersion)).toEqual([1, 2]);
    }
    const message = transport.published[0];
    expect(message?.topic).toBe('test.happened');
    expect(message?.id).toBe(events[0]?.id);
    expect(events[0]?.position).toMatch(/^\d{4}\.\d{20}\.\d{20}$/);
  });

  it('wakes on a local commit and forwards later appends', async () => {
    const schema = await db.newSchema({ partitions: 2 });
    const store = db.track(postgresEventStore({ pool: db.pool, schema }));
    const transport = recordingTransport();
    // No LISTEN, no polling and no lease maintenance within the test's waits: only the in-process signal wakes it.
    const relay = db.track(
      createOutboxRelay({
        pool: db.pool,
        schema,
        transport,
        listen: false,
        pollIntervalMs: 60_000,
        leaseTtlMs: 60_000,
      }),
    );
    await relay.start();
    await store.append('a', [envelope('test.happened', 'a1')]);
    await until(() => transport.published.length === 1, 'first message');
    await store.append('a', [envelope('test.happened', 'a2')]);
    await until(() => transport.published.length === 2, 'second message', 5_000);
    expect(transport.events().map((e) => e.streamVersion)).toEqual([1, 2]);
  });
});

import { TransportError } from '@relaybus/core';
import { describe, expect, it } from 'vitest';
import { createOutboxRelay, postgresEventStore } from '../src/index';
import { useTestDatabase } from './support/database';
import { envelope } from './support/events';
import { recordingTransport, until } from './support/recording-transport';

const db = useTestDatabase();

const labelOf = (body: unknown): string => String((body as { data: { label: string } }).data.label);

describe('outbox relay: poison events', () => {
  db.shareHorizonPerTest();

  it('parks an event the transport rejects, with the error, and the partition keeps flowing', async () => {
    const schema = await db.newSchema({ partitions: 1 });
    const store = db.track(postgresEventStore({ pool: db.pool, schema }));
    const transport = recordingTransport((message) =>
      labelOf(message.body) === 'poison'
        ? new TransportError('memory', 'message too large (2 MB > 1 MB)')
        : undefined,
    );
    const relay = db.track(createOutboxRelay({ pool: db.pool, schema, transport, logger: quiet }));
    await relay.start();
    await store.append('a', [envelope('t.x', 'a1'), envelope('t.x', 'poison'), envelope('t.x', 'a3')]);
    await store.append('b', [envelope('t.x', 'b1')]);
    await until(() => transport.published.length >= 3, 'three messages');
    expect(transport.published.map((m) => labelOf(m.body))).toEqual(['a1', 'a3', 'b1']);
    const { rows } = await db.pool.query(
      `SELECT stream, type, error->>'name' AS name, error->>'message' AS message FROM "${schema}".relay_dead_letters`,
    );
    expect(rows).toEqual([
      {
        stream: 'a',
        type: 't.x',
        name: 'TransportError',
        message: 'memory: message too large (2 MB > 1 MB)',
      },
    ]);
    await until(async () => (await relay.stats()).eventsBehind === 0, 'caught up');
    expect((await relay.stats()).parked).toBe(1);
  });

  it('parks a retryable failure after maxAttempts while other partitions flow', async () => {
    const schema = await db.newSchema({ partitions: 8 });
    const store = db.track(postgresEventStore({ pool: db.pool, schema }));
    const transport = recordingTransport((message) =>
      labelOf(message.body) === 'flaky' ? new Error('always fails') : undefined,
    );
    const relay = db.track(
      createOutboxRelay({
        pool: db.pool,
        schema,
        transport,
        maxAttempts: 3,
        retryDelayMs: 20,
        logger: quiet,
      }),
    );
    await relay.start();
    await store.append('bad', [envelope('t.x', 'flaky'), envelope('t.x', 'after')]);
    for (let i = 0; i < 20; i++) await store.append(`ok-${i}`, [envelope('t.x', `ok-${i}`)]);
    await until(() => transport.published.length >= 21, 'every other event');
    // 'after' follows the parked event on its key: it is published only once 'flaky' is parked.
    expect(transport.published.map((m) => labelOf(m.body))).toContain('after');
    await until(async () => (await relay.stats()).parked === 1, 'the flaky event parked');
    const { rows } = await db.pool.query(`SELECT attempts FROM "${schema}".relay_dead_letters`);
    expect(rows).toEqual([{ attempts: 3 }]);
  });

  it('parks the next event after a partition was taken over from dead owners crashLimit times', async () => {
    const schema = await db.newSchema({ partitions: 1 });
    const store = db.track(postgresEventStore({ pool: db.pool, schema }));
    await store.append('a', [envelope('t.x', 'killer'), envelope('t.x', 'a2')]);
    await db.pool.query(
      `INSERT INTO "${schema}".relay_leases (relay, partition, owner, token, expires_at, attempts)
       VALUES ('default', 0, 'dead-instance', 7, now() - interval '1 second', 2)`,
    );
    const transport = recordingTransport();
    const relay = db.track(
      createOutboxRelay({ pool: db.pool, schema, transport, crashLimit: 3, logger: quiet }),
    );
    await relay.start();
    await until(() => transport.published.length >= 1, 'the next event');
    expect(transport.published.map((m) => labelOf(m.body))).toEqual(['a2']);
    const { rows } = await db.pool.query(
      `SELECT attempts, error->>'message' AS message FROM "${schema}".relay_dead_letters`,
    );
    expect(rows[0]?.attempts).toBe(3);
    expect(rows[0]?.message).toMatch(/crash loop/);
  });
});

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

import { PayloadTooLargeError } from '@relaybus/core';
import { describe, expect, it } from 'vitest';
import { createOutboxRelay, postgresEventStore } from '../src/index';
import { useTestDatabase } from './support/database';
import { envelope } from './support/events';
import { recordingTransport, until } from './support/recording-transport';

const db = useTestDatabase();

const labelOf = (body: unknown): string => String((body as { data: { label: string } }).data.label);

describe('outbox relay: poison events', () => {
  db.shareHorizonPerTest();

  it('parks a PAYLOAD_TOO_LARGE event at once; later events, of its key too, are not held back', async () => {
    const schema = await db.newSchema({ partitions: 1 });
    const store = db.track(postgresEventStore({ pool: db.pool, schema }));
    // Told apart by its code: the message says nothing the old text match knew.
    const tooLarge = (id: string) =>
      new PayloadTooLargeError(
        'redis',
        { id, index: 0, sizeBytes: 2_000_000 },
        1_000_000,
        'raise maxPayloadBytes',
      );
    const transport = recordingTransport((message) =>
      labelOf(message.body) === 'poison' ? tooLarge(message.id) : undefined,
    );
    const relay = db.track(createOutboxRelay({ pool: db.pool, schema, transport, logger: quiet }));
    await relay.start();
    await store.append('a', [envelope('t.x', 'a1'), envelope('t.x', 'poison'), envelope('t.x', 'a3')]);
    await store.append('b', [envelope('t.x', 'b1')]);
    await until(() => transport.published.length >= 3, 'three messages');
    // a3 has the parked event's key (stream "a") and comes after it: it is delivered all the same.
    expect(transport.published.map((m) => labelOf(m.body))).toEqual(['a1', 'a3', 'b1']);
    const { rows } = await db.pool.query(
      `SELECT stream, type, attempts, error->>'name' AS name, error->>'code' AS code FROM "${schema}".relay_dead_letters`,
    );
    expect(rows).toEqual([
      { stream: 'a', type: 't.x', attempts: 1, name: 'PayloadTooLargeError', code: 'PAYLOAD_TOO_LARGE' },
    ]);
    await until(async () => (await relay.stats()).eventsBehind === 0, 'caught up');
    expect((await relay.stats()).parked).toBe(1);
  });

  it('parks a retryable failure after retry.attempts while other partitions flow', async () => {
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
        retry: { attempts: 3, backoff: { initialDelayMs: 20, maxDelayMs: 40 } },
        logger: quiet,
      }),
    );
    await relay.start();
    await store.append('bad', [envelope('t.x', 'flaky'), envelope('t.x', 'after')]);
    for (let i = 0; i < 20; i++) await store.append(`ok-${i}`, [envelope('t.x', `ok-${i}`)]);
    await until(() => transport.published.length >= 21, 'every other event');
    // 'after' follows the failing event in its partition: it waits while 'flaky' is retried, and is published
    // once 'flaky' is parked (a parked event does not hold back later events of its key).
    expect(transport.published.map((m) => labelOf(m.body))).toContain('after');
    await until(async () => (await relay.stats()).parked === 1, 'the flaky event parked');
    const { rows } = await db.pool.query<{ attempts: number }>(
      `SELECT attempts FROM "${schema}".relay_dead_letters`,
    );
    // A failure counts toward parking only once the transport accepted other events meanwhile (a transport failing
    // everything is an outage, not a poison event): an attempt made before the first 'ok' event went out is not
    // counted, so a loaded machine can show more attempts than 3, never fewer.
    expect(rows).toHaveLength(1);
    expect(rows[0]?.attempts).toBeGreaterThanOrEqual(3);
  });

  it('parks an event that crashLimit relay instances died publishing (marked in flight), not before', async () => {
    const schema = await db.newSchema({ partitions: 1 });
    const store = db.track(postgresEventStore({ pool: db.pool, schema }));
    const { events } = await store.append('a', [envelope('t.x', 'killer'), envelope('t.x', 'a2')]);
    // Three dead owners marked the killer in flight and never finished it.
    await db.pool.query(
      `INSERT INTO "${schema}".relay_leases (relay, partition, owner, token, expires_at, attempt_event_id, attempts)
       VALUES ('default', 0, 'dead-instance', 7, now() - interval '1 second', $1, 3)`,
      [events[0]?.id],
    );
    const transport = recordingTransport();
    const relay = db.track(
      createOutboxRelay({ pool: db.pool, schema, transport, crashLimit: 3, logger: quiet }),
    );
    await relay.start();
    await until(() => transport.published.length >= 1, 'the next event');
    expect(transport.published.map((m) => labelOf(m.body))).toEqual(['a2']);
    const [parked] = await relay.parked.list();
    expect(parked).toMatchObject({ eventId: events[0]?.id, attempts: 3 });
    expect(parked?.error.message).toMatch(
      /crash loop: 3 relay instances stopped while publishing this event/,
    );
  });

  it('does not count takeovers without an event in flight (idle crashes) against the next event', async () => {
    const schema = await db.newSchema({ partitions: 1 });
    const store = db.track(postgresEventStore({ pool: db.pool, schema }));
    // Owners that died holding an idle partition: taken over many times, nothing marked in flight.
    await db.pool.query(
      `INSERT INTO "${schema}".relay_leases (relay, partition, owner, token, expires_at, attempts)
       VALUES ('default', 0, 'dead-instance', 7, now() - interval '1 second', 0)`,
    );
    const transport = recordingTransport();
    const relay = db.track(
      createOutboxRelay({ pool: db.pool, schema, transport, crashLimit: 1, logger: quiet }),
    );
    await relay.start();
    await store.append('a', [envelope('t.x', 'a1'), envelope('t.x', 'a2')]);
    await until(() => transport.published.length >= 2, 'both events');
    expect(transport.published.map((m) => labelOf(m.body))).toEqual(['a1', 'a2']);
    expect(await relay.parked.list({ state: 'all' })).toEqual([]);
  });
});

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

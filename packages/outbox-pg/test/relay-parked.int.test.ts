import type { TransportMessage } from '@relaybus/core';
import { InvalidOptionError, NonRetryableError, TransportUnavailableError } from '@relaybus/core';
import { describe, expect, it } from 'vitest';
import { createOutboxRelay, postgresEventStore, pruneEvents } from '../src/index';
import { useTestDatabase } from './support/database';
import { envelope } from './support/events';
import { recordingTransport, until } from './support/recording-transport';

const db = useTestDatabase();
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const labelOf = (message: TransportMessage): string =>
  String((message.body as { data: { label: string } }).data.label);

/**
 * A relay whose transport refuses events labelled `bad-*` as poison while `refusing` holds, with three of them
 * parked (two of stream "a" and one of "b") between good events.
 */
async function parkedSetup() {
  const schema = await db.newSchema({ partitions: 2 });
  const store = db.track(postgresEventStore({ pool: db.pool, schema }));
  const state = { refusing: true };
  const transport = recordingTransport((message) =>
    state.refusing && labelOf(message).startsWith('bad-')
      ? new NonRetryableError(`refused ${labelOf(message)}`)
      : undefined,
  );
  const relay = db.track(createOutboxRelay({ pool: db.pool, schema, transport, logger: quiet }));
  await relay.start();
  await store.append('a', [envelope('t.x', 'bad-a1'), envelope('t.x', 'a2'), envelope('t.y', 'bad-a3')]);
  await store.append('b', [envelope('t.x', 'bad-b1'), envelope('t.x', 'b2')]);
  await until(async () => (await relay.stats()).parked === 3, 'three parked');
  await until(async () => (await relay.stats()).eventsBehind === 0, 'caught up');
  return { schema, store, transport, relay, state };
}

describe('outbox relay: parked events', () => {
  db.shareHorizonPerTest();

  it('lists with filters and paging, and shows one with its error and attempts', async () => {
    const { relay } = await parkedSetup();
    const all = await relay.parked.list();
    expect(all.map((p) => p.stream).sort()).toEqual(['a', 'a', 'b']);
    expect((await relay.parked.list({ stream: 'a' })).map((p) => p.type)).toEqual(['t.x', 't.y']);
    expect(await relay.parked.list({ type: 't.y', stream: 'b' })).toEqual([]);

    const first = await relay.parked.list({ limit: 2 });
    const rest = await relay.parked.list({ limit: 2, after: first[first.length - 1]?.id });
    expect([...first, ...rest].map((p) => p.id)).toEqual(all.map((p) => p.id));

    const one = all[0];
    if (one === undefined) throw new Error('nothing parked');
    const inspected = await relay.parked.get(one.eventId);
    expect(inspected).toMatchObject({
      eventId: one.eventId,
      attempts: 1,
      error: { name: 'NonRetryableError', code: 'NON_RETRYABLE' },
      redrivenAt: undefined,
      event: { id: one.eventId, position: one.position },
    });
    expect(inspected?.errors).toHaveLength(1);
    expect(await relay.parked.get('no-such-event')).toBeUndefined();
    await expect(relay.parked.list({ limit: 0 })).rejects.toBeInstanceOf(InvalidOptionError);
  });

  it('redrives some, then all: published again in log order, marked redriven, no longer counted', async () => {
    const { transport, relay, state } = await parkedSetup();
    state.refusing = false;
    const [a1] = await relay.parked.list({ stream: 'a', type: 't.x' });
    const before = transport.published.length;
    expect(await relay.parked.redrive({ eventIds: [a1?.eventId ?? ''] })).toBe(1);
    expect(transport.published.slice(before).map(labelOf)).toEqual(['bad-a1']);
    expect((await relay.parked.get(a1?.eventId ?? ''))?.redrivenAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect((await relay.stats()).parked).toBe(2);

    const rest = await relay.parked.list();
    expect(await relay.parked.redrive()).toBe(2);
    // Log order: a3 was appended before b1.
    expect(transport.published.slice(before + 1).map(labelOf)).toEqual(['bad-a3', 'bad-b1']);
    expect(
      transport
        .events()
        .slice(before + 1)
        .map((e) => e.position),
    ).toEqual(rest.map((p) => p.position).sort());
    expect((await relay.stats()).parked).toBe(0);
    expect(await relay.parked.list({ state: 'redriven' })).toHaveLength(3);
    expect(await relay.parked.redrive(), 'nothing left to redrive').toBe(0);
  });

  it('a redrive that fails as poison again keeps the event parked with both errors; purge removes for good', async () => {
    const { schema, relay, transport, store } = await parkedSetup();
    const [first] = await relay.parked.list({ stream: 'b' });
    expect(await relay.parked.redrive({ stream: 'b' })).toBe(0);
    const again = await relay.parked.get(first?.eventId ?? '');
    expect(again).toMatchObject({ attempts: 2, redrivenAt: undefined });
    expect(again?.errors.map((e) => e.message)).toEqual(['refused bad-b1', 'refused bad-b1']);

    // Parked events are kept by pruning until they are redriven or purged.
    await relay.close();
    expect(await pruneEvents({ pool: db.pool, schema, relay })).toBe(2);
    expect((await relay.parked.list()).every((p) => p.event !== undefined)).toBe(true);
    expect(await relay.parked.purge({ stream: 'a' })).toBe(2);
    expect((await relay.parked.list()).map((p) => p.stream)).toEqual(['b']);
    expect(await pruneEvents({ pool: db.pool, schema, relay })).toBe(2);
    expect(transport.published.map(labelOf)).not.toContain('bad-b1');
    expect(await store.streamVersion('a')).toBe(3);
  });

  it('a transport that is down fails the redrive and leaves the rest parked', async () => {
    const { schema, store } = await parkedSetup();
    const down = recordingTransport(() => new TransportUnavailableError('memory', 'nowhere', 'is down'));
    const admin = createOutboxRelay({ pool: db.pool, schema, transport: down, logger: quiet });
    await expect(admin.parked.redrive()).rejects.toBeInstanceOf(TransportUnavailableError);
    expect(await admin.parked.list()).toHaveLength(3);
    expect(await store.streamVersion('b')).toBe(2);
  });
});

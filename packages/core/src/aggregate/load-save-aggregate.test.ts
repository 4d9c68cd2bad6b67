import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  InvalidEnvelopeError,
  InvalidOptionError,
  UnknownStreamEventError,
  ValidationError,
  VersionConflictError,
} from '../errors';
import { defineEvent } from '../events/define-event';
import type { EventStore, ReadStreamOptions } from '../store/event-store';
import { memoryEventStore } from '../store/memory-event-store';
import { defineAggregate } from './define-aggregate';
import { loadAggregate } from './load-aggregate';
import { memorySnapshotStore } from './memory-snapshot-store';
import { saveAggregate } from './save-aggregate';
import type { SnapshotStore } from './snapshot-store';

const Opened = defineEvent('account.opened', z.object({ owner: z.string() }));
const Deposited = defineEvent('account.deposited', z.object({ amountCents: z.number().int().positive() }), {
  version: 2,
  upcast: { 1: (v1) => ({ amountCents: (v1 as { amount: number }).amount * 100 }) },
});
const Closed = defineEvent('account.closed', z.object({}));

interface Account {
  owner: string;
  balanceCents: number;
  deposits: number;
}

const definition = {
  name: 'account',
  events: [Opened, Deposited],
  initialState: (): Account => ({ owner: '', balanceCents: 0, deposits: 0 }),
  evolve: (state: Account, event: { type: string; data: unknown }): Account => {
    if (event.type === 'account.opened') return { ...state, owner: (event.data as { owner: string }).owner };
    const { amountCents } = event.data as { amountCents: number };
    return { ...state, balanceCents: state.balanceCents + amountCents, deposits: state.deposits + 1 };
  },
};
const Account = defineAggregate(definition);
const Snapshotted = defineAggregate({ ...definition, snapshot: { schemaVersion: 1, every: 3 } });

/** An event store that records what aggregates read from it. */
function countingStore() {
  const inner = memoryEventStore();
  const reads: Array<{ stream: string; fromVersion: number | undefined; events: number }> = [];
  const store: EventStore = {
    ...inner,
    async *readStream(stream: string, options: ReadStreamOptions = {}) {
      const read = { stream, fromVersion: options.fromVersion, events: 0 };
      reads.push(read);
      for await (const event of inner.readStream(stream, options)) {
        read.events += 1;
        yield event;
      }
    },
  };
  return { store, reads };
}

async function openAccount(store: EventStore, id: string, deposits: number, snapshots?: SnapshotStore) {
  const account = await loadAggregate(store, Snapshotted, id);
  account.raise(Opened, { owner: 'ada' });
  await saveAggregate(store, account, snapshots === undefined ? {} : { snapshots });
  for (let i = 0; i < deposits; i++) {
    const loaded = await loadAggregate(store, Snapshotted, id, snapshots === undefined ? {} : { snapshots });
    loaded.raise(Deposited, { amountCents: 100 });
    await saveAggregate(store, loaded, snapshots === undefined ? {} : { snapshots });
  }
}

describe('loadAggregate and saveAggregate', () => {
  it('rebuilds state from the stream with the reducer, upcasting old events', async () => {
    const store = memoryEventStore();
    await store.append('account-a1', [
      Opened.create({ owner: 'ada' }),
      { ...Deposited.create({ amountCents: 1 }), version: 1, data: { amount: 5 } },
      Deposited.create({ amountCents: 250 }),
    ]);
    const account = await loadAggregate(store, Account, 'a1');
    expect(account).toMatchObject({ id: 'a1', stream: 'account-a1', version: 3 });
    expect(account.state).toEqual({ owner: 'ada', balanceCents: 750, deposits: 2 });
  });

  it('starts a missing stream as a new aggregate at version 0, raising events with the id as subject', async () => {
    const store = memoryEventStore();
    const account = await loadAggregate(store, Account, 'a1');
    expect(account.version).toBe(0);
    expect(account.state).toEqual(Account.initialState());
    const opened = account.raise(Opened, { owner: 'ada' });
    expect(opened.subject).toBe('a1');
    expect(account.state.owner).toBe('ada');
    expect(account.version).toBe(0);
    const result = await saveAggregate(store, account);
    expect(result?.streamVersion).toBe(1);
    expect(account.version).toBe(1);
    expect(await saveAggregate(store, account)).toBeUndefined();
    const reloaded = await loadAggregate(store, Account, 'a1');
    expect(reloaded.state).toEqual(account.state);
  });

  it('hands raised events over once', async () => {
    const account = await loadAggregate(memoryEventStore(), Account, 'a1');
    account.raise(Opened, { owner: 'ada' });
    account.raise(Deposited, { amountCents: 5 });
    expect(account.pullEvents().map((event) => event.type)).toEqual(['account.opened', 'account.deposited']);
    expect(account.pullEvents()).toEqual([]);
    account.raise(Deposited, { amountCents: 5 });
    expect(account.pullEvents()).toHaveLength(1);
  });

  it('refuses invalid payloads and foreign event types without changing the state', async () => {
    const account = await loadAggregate(memoryEventStore(), Account, 'a1');
    expect(() => account.raise(Deposited, { amountCents: -1 })).toThrow(ValidationError);
    expect(() => account.raise(Closed as never, {} as never)).toThrow(InvalidOptionError);
    expect(account.state).toEqual(Account.initialState());
    expect(account.pullEvents()).toEqual([]);
  });

  it('loads the snapshot and reads only the events after it', async () => {
    const { store, reads } = countingStore();
    const snapshots = memorySnapshotStore();
    await openAccount(store, 'a1', 4, snapshots);
    expect(await snapshots.load('account-a1')).toMatchObject({ streamVersion: 3, schemaVersion: 1 });
    reads.length = 0;
    const account = await loadAggregate(store, Snapshotted, 'a1', { snapshots });
    expect(reads).toEqual([{ stream: 'account-a1', fromVersion: 4, events: 2 }]);
    expect(account.version).toBe(5);
    expect(account.state).toEqual({ owner: 'ada', balanceCents: 400, deposits: 4 });
  });

  it('takes a snapshot once `every` events were appended since the last one', async () => {
    const store = memoryEventStore();
    const snapshots = memorySnapshotStore();
    await openAccount(store, 'a1', 1, snapshots);
    expect(await snapshots.load('account-a1')).toBeUndefined();
    await openAccount(store, 'a2', 7, snapshots);
    const snapshot = await snapshots.load('account-a2');
    expect(snapshot).toMatchObject({ stream: 'account-a2', streamVersion: 6, state: { deposits: 5 } });
    expect(new Date(snapshot?.takenAt ?? '').toISOString()).toBe(snapshot?.takenAt);
  });

  it('ignores a snapshot of another schema version and rebuilds from the first event', async () => {
    const { store, reads } = countingStore();
    const snapshots = memorySnapshotStore();
    await openAccount(store, 'a1', 4, snapshots);
    const v2 = defineAggregate({ ...definition, snapshot: { schemaVersion: 2, every: 3 } });
    reads.length = 0;
    const account = await loadAggregate(store, v2, 'a1', { snapshots });
    expect(reads).toEqual([{ stream: 'account-a1', fromVersion: 1, events: 5 }]);
    expect(account.state.deposits).toBe(4);
  });

  it('does not read snapshots for aggregates without a snapshot policy', async () => {
    const { store, reads } = countingStore();
    const snapshots = memorySnapshotStore();
    await openAccount(store, 'a1', 4, snapshots);
    reads.length = 0;
    await loadAggregate(store, Account, 'a1', { snapshots });
    expect(reads[0]?.fromVersion).toBe(1);
  });

  it('surfaces a VersionConflictError when another writer saved first, keeping the events for a retry', async () => {
    const store = memoryEventStore();
    await openAccount(store, 'a1', 0);
    const first = await loadAggregate(store, Account, 'a1');
    const second = await loadAggregate(store, Account, 'a1');
    first.raise(Deposited, { amountCents: 100 });
    second.raise(Deposited, { amountCents: 200 });
    await saveAggregate(store, first);
    const error = await saveAggregate(store, second).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VersionConflictError);
    expect(error).toMatchObject({ stream: 'account-a1', expected: 1, actual: 2 });
    expect(second.pullEvents()).toHaveLength(1);
    const reloaded = await loadAggregate(store, Account, 'a1');
    expect(reloaded.state.balanceCents).toBe(100);
  });

  it('names the stream and version of an event type the aggregate does not list', async () => {
    const store = memoryEventStore();
    await store.append('account-a1', [Opened.create({ owner: 'ada' }), Closed.create({})]);
    const error = await loadAggregate(store, Account, 'a1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnknownStreamEventError);
    expect(error).toMatchObject({
      code: 'UNKNOWN_EVENT',
      stream: 'account-a1',
      streamVersion: 2,
      eventType: 'account.closed',
    });
  });

  it('names the stream and version of a stored event that fails its schema', async () => {
    const store = memoryEventStore();
    await store.append('account-a1', [
      { ...Deposited.create({ amountCents: 1 }), data: { amountCents: 'many' } },
    ]);
    const error = await loadAggregate(store, Account, 'a1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidEnvelopeError);
    expect((error as Error).message).toContain('stream "account-a1" version 1');
    expect((error as Error).cause).toBeInstanceOf(ValidationError);
  });

  it('keeps the saved events when the snapshot cannot be saved, and warns', async () => {
    const store = memoryEventStore();
    const warnings: string[] = [];
    const logger = {
      debug() {},
      info() {},
      error() {},
      warn: (message: string) => void warnings.push(message),
    };
    const snapshots: SnapshotStore = {
      load: async () => undefined,
      save: () => Promise.reject(new Error('disk full')),
    };
    const account = await loadAggregate(store, Snapshotted, 'a1');
    for (let i = 0; i < 3; i++) account.raise(Deposited, { amountCents: 1 });
    expect(await saveAggregate(store, account, { snapshots, logger })).toMatchObject({ streamVersion: 3 });
    expect(warnings).toEqual(['snapshot of "account-a1" not saved']);
  });

  it('accepts only handles made by loadAggregate', async () => {
    const fake = { id: 'a1', stream: 'account-a1', state: {}, version: 0, raise() {}, pullEvents: () => [] };
    await expect(saveAggregate(memoryEventStore(), fake as never)).rejects.toBeInstanceOf(InvalidOptionError);
  });
});

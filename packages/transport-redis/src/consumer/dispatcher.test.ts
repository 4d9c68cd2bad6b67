import { DeliveryState } from '@relaybus/core/transport-kit';
import { describe, expect, it } from 'vitest';
import { Dispatcher, type Outcome } from './dispatcher';
import { LeaseClock } from './lease-clock';
import { type Item, PartitionState } from './partition';
import type { RedisDelivery, Settler } from './redis-delivery';

function setup(concurrency: number): {
  dispatcher: Dispatcher;
  started: RedisDelivery[];
  partition: PartitionState;
  item: (id: string, key?: string, nonce?: string) => Item;
  settle: (id: string, outcome: Outcome) => void;
} {
  const started: RedisDelivery[] = [];
  const settler: Settler = {
    ack: () => Promise.resolve(),
    nack: () => Promise.resolve(),
    deadLetter: () => Promise.resolve(),
  };
  const dispatcher = new Dispatcher(
    { handle: (delivery) => started.push(delivery), expired: () => {}, changed: () => {} },
    settler,
    { concurrency, prefetch: 100, visibilityTimeoutMs: 60_000 },
  );
  const lease = new LeaseClock(60_000);
  lease.renew(Date.now(), lease.epoch);
  const partition = new PartitionState('t', 0, 's', lease, '1');
  partition.status = 'reading';
  return {
    dispatcher,
    started,
    partition,
    item: (id, key, nonce) => ({
      partition,
      entryId: `${id}-0`,
      message: key === undefined ? { id, topic: 't', body: null } : { id, topic: 't', key, body: null },
      bodyText: 'null',
      baseAttempt: 1,
      attempt: 1,
      firstAttemptAt: 0,
      nonce,
    }),
    settle: (id, outcome) => {
      const delivery = started.find((d) => d.message.id === id && d.inFlight);
      if (delivery === undefined) throw new Error(`${id} not in flight`);
      delivery.state = DeliveryState.DONE;
      dispatcher.finish(delivery, outcome);
    },
  };
}

const ids = (deliveries: RedisDelivery[]): string[] => deliveries.map((d) => `${d.message.id}#${d.attempt}`);

describe('Dispatcher', () => {
  it('hands out one message per key at a time, in order, other keys concurrently up to the limit', () => {
    const { dispatcher, started, item, settle } = setup(3);
    for (const [id, key] of [
      ['a1', 'a'],
      ['a2', 'a'],
      ['b1', 'b'],
      ['n1', undefined],
      ['c1', 'c'],
    ] as const) {
      dispatcher.accept(item(id, key));
    }
    expect(ids(started)).toEqual(['a1#1', 'b1#1', 'n1#1']);
    expect(dispatcher.room()).toBe(100 - 5);
    settle('a1', { kind: 'done' });
    expect(ids(started)).toEqual(['a1#1', 'b1#1', 'n1#1', 'a2#1']);
    settle('a2', { kind: 'retry' });
    expect(ids(started).at(-1)).toBe('a2#2');
  });

  it('holds a key after a delayed nack until the retry with its nonce arrives', () => {
    const { dispatcher, started, item, settle } = setup(4);
    dispatcher.accept(item('k1', 'k'));
    settle('k1', { kind: 'hold', nonce: 'n-1' });
    dispatcher.accept(item('k2', 'k'));
    dispatcher.accept(item('j1', 'j'));
    expect(ids(started)).toEqual(['k1#1', 'j1#1']);
    // Parked behind a hold: not counted against prefetch, so reading can reach the retry.
    expect(dispatcher.room()).toBe(100 - 1);
    dispatcher.accept({ ...item('k1', 'k', 'n-1'), attempt: 2, baseAttempt: 2 });
    expect(ids(started)).toEqual(['k1#1', 'j1#1', 'k1#2']);
    settle('k1', { kind: 'done' });
    expect(ids(started).at(-1)).toBe('k2#1');
  });

  it('drops what was queued for a partition it gives up, keeping in-flight work', () => {
    const { dispatcher, started, partition, item } = setup(1);
    dispatcher.accept(item('a1', 'a'));
    dispatcher.accept(item('a2', 'a'));
    dispatcher.accept(item('b1', 'b'));
    const dropped = dispatcher.drop((p) => p === partition);
    expect(dropped.map((i) => i.message.id).sort()).toEqual(['a2', 'b1']);
    expect(ids(started)).toEqual(['a1#1']);
    expect(partition.queued).toBe(0);
  });

  it('hands out nothing while the lease cannot be proven, then goes on in order once it is', () => {
    const { dispatcher, started, partition, item, settle } = setup(4);
    dispatcher.accept(item('a1', 'a'));
    dispatcher.accept(item('a2', 'a'));
    partition.lease.withdraw();
    settle('a1', { kind: 'done' });
    dispatcher.accept(item('b1', 'b'));
    expect(ids(started)).toEqual(['a1#1']);
    // A heartbeat sent before the proof was withdrawn proves nothing.
    expect(partition.lease.renew(Date.now() - 1, partition.lease.epoch - 1)).toBe(false);
    expect(partition.lease.renew(Date.now(), partition.lease.epoch)).toBe(true);
    dispatcher.resume(partition);
    expect(ids(started)).toEqual(['a1#1', 'a2#1', 'b1#1']);
  });

  it('drops what a fenced partition paused when the partition is lost', () => {
    const { dispatcher, started, partition, item } = setup(4);
    partition.lease.withdraw();
    dispatcher.accept(item('a1', 'a'));
    dispatcher.accept(item('a2', 'a'));
    expect(started).toEqual([]);
    expect(
      dispatcher
        .drop((p) => p === partition)
        .map((i) => i.message.id)
        .sort(),
    ).toEqual(['a1', 'a2']);
    expect(partition.queued).toBe(0);
    expect(dispatcher.room()).toBe(100);
  });
});

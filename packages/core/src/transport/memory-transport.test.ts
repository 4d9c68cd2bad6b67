import { afterEach, describe, expect, test } from 'vitest';
import { ClosedError, InvalidOptionError, InvalidPatternError, TransportError } from '../errors';
import { type MemoryTransportOptions, memoryTransport } from './memory-transport';
import type {
  Delivery,
  Transport,
  TransportMessage,
  TransportSubscribeOptions,
  TransportSubscription,
} from './transport';

const open: Transport[] = [];

function create(options?: MemoryTransportOptions): Transport {
  const transport = memoryTransport(options);
  open.push(transport);
  return transport;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((transport) => transport.close({ timeoutMs: 0 })));
});

function msg(id: string, topic = 'task.created', extra: Partial<TransportMessage> = {}): TransportMessage {
  return { id, topic, body: { id }, ...extra };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitFor(predicate: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(2);
  }
}

interface Recorder {
  readonly subscription: TransportSubscription;
  readonly deliveries: Delivery[];
  ids(): string[];
}

async function record(
  transport: Transport,
  options: TransportSubscribeOptions,
  settle: (delivery: Delivery) => void | Promise<void> = (delivery) => delivery.ack(),
): Promise<Recorder> {
  const deliveries: Delivery[] = [];
  const subscription = await transport.subscribe(options, (delivery) => {
    deliveries.push(delivery);
    return settle(delivery);
  });
  return { subscription, deliveries, ids: () => deliveries.map((delivery) => delivery.message.id) };
}

const hold = (): void => {};

describe('memoryTransport: options', () => {
  test('states its name and capabilities', () => {
    const transport = create();
    expect(transport.name).toBe('memory');
    expect(transport.capabilities).toEqual({ durable: false, groups: true, delay: true, orderedByKey: true });
  });

  test.each([0, -1, 1.5, Number.NaN])('rejects highWaterMark %s, naming the option', (highWaterMark) => {
    expect(() => memoryTransport({ highWaterMark })).toThrow(InvalidOptionError);
    expect(() => memoryTransport({ highWaterMark })).toThrow(/"highWaterMark"/);
  });

  test.each<[string, TransportSubscribeOptions]>([
    ['concurrency', { topics: ['a'], concurrency: 0 }],
    ['concurrency', { topics: ['a'], concurrency: 2.5 }],
    ['visibilityTimeoutMs', { topics: ['a'], visibilityTimeoutMs: 0 }],
    ['visibilityTimeoutMs', { topics: ['a'], visibilityTimeoutMs: -5 }],
    ['topics', {}],
    ['topics', { topics: [] }],
    ['topics[0]', { topics: [''] }],
    ['topics[1]', { topics: ['a', 'task.*'] }],
    ['group', { topics: ['a'], group: '' }],
  ])('subscribe rejects a bad "%s"', async (option, options) => {
    const transport = create();
    const error = await transport.subscribe(options, hold).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).option).toBe(option);
  });

  test('subscribe rejects a malformed pattern', async () => {
    await expect(create().subscribe({ pattern: 'task.*x' }, hold)).rejects.toBeInstanceOf(
      InvalidPatternError,
    );
  });

  test('publish rejects a message without topic or with a negative delay, and accepts none of the batch', async () => {
    const transport = create();
    const sink = await record(transport, { topics: ['a'] });
    await expect(transport.publish([msg('1', 'a'), msg('2', '')])).rejects.toThrow(/messages\[1\]\.topic/);
    await expect(transport.publish([msg('3', 'a', { delayMs: -1 })])).rejects.toThrow(/delayMs/);
    await sleep(20);
    expect(sink.ids()).toEqual([]);
  });
});

describe('memoryTransport: topics and patterns', () => {
  test('an exact-topic subscriber receives only its topics', async () => {
    const transport = create();
    const sink = await record(transport, { topics: ['a', 'b'] });
    await transport.publish([msg('1', 'a'), msg('2', 'c'), msg('3', 'b')]);
    await waitFor(() => sink.deliveries.length === 2);
    await sleep(10);
    expect(sink.ids()).toEqual(['1', '3']);
  });

  test('a pattern matches topics first published after subscribing, by AMQP rules', async () => {
    const transport = create();
    const oneWord = await record(transport, { pattern: 'task.*' });
    const anyDepth = await record(transport, { pattern: 'task.#', group: 'deep' });
    await transport.publish([
      msg('1', 'task.created'),
      msg('2', 'task.dates.changed'),
      msg('3', 'project.created'),
    ]);
    await transport.publish([msg('4', 'task.deleted'), msg('5', 'task')]);
    await waitFor(() => oneWord.deliveries.length === 2 && anyDepth.deliveries.length === 4);
    await sleep(10);
    expect(oneWord.ids()).toEqual(['1', '4']);
    expect(anyDepth.ids()).toEqual(['1', '2', '4', '5']);
  });

  test('topics and pattern together receive their union, each message once', async () => {
    const transport = create();
    const sink = await record(transport, { topics: ['task.created', 'project.created'], pattern: 'task.*' });
    await transport.publish([
      msg('1', 'task.created'),
      msg('2', 'task.deleted'),
      msg('3', 'project.created'),
    ]);
    await waitFor(() => sink.deliveries.length === 3);
    await sleep(10);
    expect(sink.ids()).toEqual(['1', '2', '3']);
  });
});

describe('memoryTransport: group-less subscribers', () => {
  test('each receives every matching message, in publish order', async () => {
    const transport = create();
    const first = await record(transport, { topics: ['a'] });
    const second = await record(transport, { topics: ['a'] });
    await transport.publish([msg('1', 'a'), msg('2', 'a'), msg('3', 'a')]);
    await waitFor(() => first.deliveries.length === 3 && second.deliveries.length === 3);
    expect(first.ids()).toEqual(['1', '2', '3']);
    expect(second.ids()).toEqual(['1', '2', '3']);
  });

  test('receives only messages published after subscribe() resolved', async () => {
    const transport = create();
    await transport.publish([msg('before', 'a')]);
    const sink = await record(transport, { topics: ['a'] });
    await transport.publish([msg('after', 'a')]);
    await waitFor(() => sink.deliveries.length === 1);
    await sleep(10);
    expect(sink.ids()).toEqual(['after']);
  });

  test('on close its pending messages are discarded and its in-flight delivery is aborted, not redelivered', async () => {
    const transport = create();
    const sink = await record(transport, { topics: ['a'] }, hold);
    await transport.publish([msg('1', 'a'), msg('2', 'a'), msg('3', 'a')]);
    await waitFor(() => sink.deliveries.length === 1);
    const [inFlight] = sink.deliveries;
    await sink.subscription.close({ timeoutMs: 0 });
    expect(inFlight?.signal.aborted).toBe(true);
    const again = await record(transport, { topics: ['a'] });
    await transport.publish([msg('4', 'a')]);
    await waitFor(() => again.deliveries.length === 1);
    await sleep(10);
    expect(sink.ids()).toEqual(['1']);
    expect(again.ids()).toEqual(['4']);
  });
});

describe('memoryTransport: groups', () => {
  test('members compete: each message is handled once per group, by some member', async () => {
    const transport = create();
    const a = await record(transport, { topics: ['a'], group: 'g' });
    const b = await record(transport, { topics: ['a'], group: 'g' });
    const ids = Array.from({ length: 20 }, (_, i) => `m${i}`);
    await transport.publish(ids.map((id) => msg(id, 'a')));
    await waitFor(() => a.deliveries.length + b.deliveries.length === 20);
    await sleep(10);
    expect([...a.ids(), ...b.ids()].sort()).toEqual([...ids].sort());
    expect(a.deliveries.length).toBeGreaterThan(0);
    expect(b.deliveries.length).toBeGreaterThan(0);
  });

  test('different groups are independent: each gets every message', async () => {
    const transport = create();
    const mail = await record(transport, { topics: ['a'], group: 'mail' });
    const audit = await record(transport, { topics: ['a'], group: 'audit' });
    await transport.publish([msg('1', 'a'), msg('2', 'a')]);
    await waitFor(() => mail.deliveries.length === 2 && audit.deliveries.length === 2);
    expect(mail.ids()).toEqual(['1', '2']);
    expect(audit.ids()).toEqual(['1', '2']);
  });

  test('a group outlives its members: messages published meanwhile arrive when a member subscribes again', async () => {
    const transport = create();
    const first = await record(transport, { topics: ['a'], group: 'g' });
    await first.subscription.close();
    await transport.publish([msg('1', 'a'), msg('2', 'a'), msg('3', 'a')]);
    const second = await record(transport, { topics: ['a'], group: 'g' });
    await waitFor(() => second.deliveries.length === 3);
    expect(second.ids()).toEqual(['1', '2', '3']);
    expect(second.deliveries.map((delivery) => delivery.attempt)).toEqual([1, 1, 1]);
  });

  test('a group keeps the topics of past members, and hands a message only to a member whose filter matches', async () => {
    const transport = create();
    const past = await record(transport, { topics: ['a'], group: 'g' });
    await past.subscription.close();
    const onlyB = await record(transport, { topics: ['b'], group: 'g' });
    await transport.publish([msg('a1', 'a'), msg('b1', 'b')]);
    await waitFor(() => onlyB.deliveries.length === 1);
    const onlyA = await record(transport, { topics: ['a'], group: 'g' });
    await waitFor(() => onlyA.deliveries.length === 1);
    await sleep(10);
    expect(onlyB.ids()).toEqual(['b1']);
    expect(onlyA.ids()).toEqual(['a1']);
  });

  test('a message whose matching member is busy waits for it, while other topics flow to other members', async () => {
    const transport = create();
    const onlyA = await record(transport, { topics: ['a'], group: 'g' }, hold);
    const onlyB = await record(transport, { topics: ['b'], group: 'g' });
    await transport.publish([msg('a1', 'a'), msg('a2', 'a'), msg('b1', 'b'), msg('b2', 'b')]);
    await waitFor(() => onlyA.deliveries.length === 1 && onlyB.deliveries.length === 2);
    onlyA.deliveries[0]?.ack();
    await waitFor(() => onlyA.deliveries.length === 2);
    await sleep(10);
    expect(onlyA.ids()).toEqual(['a1', 'a2']);
    expect(onlyB.ids()).toEqual(['b1', 'b2']);
  });

  test('live members with different filters each get only their own topics', async () => {
    const transport = create();
    const onlyA = await record(transport, { topics: ['a'], group: 'g' });
    const onlyB = await record(transport, { pattern: 'b.*', group: 'g' });
    await transport.publish([msg('a1', 'a'), msg('b1', 'b.x'), msg('a2', 'a'), msg('b2', 'b.y')]);
    await waitFor(() => onlyA.deliveries.length === 2 && onlyB.deliveries.length === 2);
    expect(onlyA.ids()).toEqual(['a1', 'a2']);
    expect(onlyB.ids()).toEqual(['b1', 'b2']);
  });
});

describe('memoryTransport: settling deliveries', () => {
  test('attempt starts at 1 and grows by one per nack; firstAttemptAt stays', async () => {
    const transport = create();
    const sink = await record(transport, { topics: ['a'], group: 'g' }, (delivery) =>
      delivery.attempt < 3 ? delivery.nack() : delivery.ack(),
    );
    await transport.publish([msg('1', 'a')]);
    await waitFor(() => sink.deliveries.length === 3);
    await sleep(10);
    expect(sink.deliveries.map((delivery) => delivery.attempt)).toEqual([1, 2, 3]);
    expect(new Set(sink.deliveries.map((delivery) => delivery.firstAttemptAt)).size).toBe(1);
    expect(sink.ids()).toEqual(['1', '1', '1']);
  });

  test('nack with a delay redelivers no earlier than the delay', async () => {
    const transport = create();
    const times: number[] = [];
    const sink = await record(transport, { topics: ['a'], group: 'g' }, (delivery) => {
      times.push(Date.now());
      if (delivery.attempt === 1) delivery.nack({ delayMs: 60 });
      else delivery.ack();
    });
    await transport.publish([msg('1', 'a')]);
    await waitFor(() => sink.deliveries.length === 2);
    expect((times[1] ?? 0) - (times[0] ?? 0)).toBeGreaterThanOrEqual(60);
  });

  test('nack hands the message to any live member of the group', async () => {
    const transport = create();
    const refuser = await record(transport, { topics: ['a'], group: 'g' }, (delivery) => delivery.nack());
    await transport.publish([msg('1', 'a')]);
    await waitFor(() => refuser.deliveries.length >= 1);
    const taker = await record(transport, { topics: ['a'], group: 'g' });
    await waitFor(() => taker.deliveries.length === 1);
    expect(taker.ids()).toEqual(['1']);
    expect(taker.deliveries[0]?.attempt).toBeGreaterThan(1);
  });

  test('nack rejects a negative delay and leaves the delivery in flight', async () => {
    const transport = create();
    const sink = await record(transport, { topics: ['a'] }, hold);
    await transport.publish([msg('1', 'a')]);
    await waitFor(() => sink.deliveries.length === 1);
    const [delivery] = sink.deliveries;
    expect(() => delivery?.nack({ delayMs: -1 })).toThrow(InvalidOptionError);
    delivery?.ack();
  });

  test('deadLetter moves the message to the dead-letter list with reason, error, attempts and timestamps', async () => {
    const transport = create();
    const sink = await record(transport, { topics: ['a'], group: 'g' }, (delivery) =>
      delivery.attempt < 2
        ? delivery.nack()
        : delivery.deadLetter({ reason: 'MAX_ATTEMPTS', error: { name: 'Error', message: 'boom' } }),
    );
    const message = msg('1', 'a', { key: 'k' });
    await transport.publish([message]);
    await waitFor(() => sink.deliveries.length === 2);
    const letters = await transport.deadLetters.list();
    expect(letters).toHaveLength(1);
    const [letter] = letters;
    expect(letter).toMatchObject({
      message,
      group: 'g',
      reason: 'MAX_ATTEMPTS',
      error: { name: 'Error', message: 'boom' },
      attempts: 2,
    });
    expect(letter?.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(letter?.firstAttemptAt).toBe(new Date(sink.deliveries[0]?.firstAttemptAt ?? 0).toISOString());
    const iso = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
    expect(letter?.lastAttemptAt).toMatch(iso);
    expect(letter?.deadLetteredAt).toMatch(iso);
    expect(Date.parse(letter?.lastAttemptAt ?? '')).toBeGreaterThanOrEqual(
      Date.parse(letter?.firstAttemptAt ?? ''),
    );
    await sleep(10);
    expect(sink.deliveries).toHaveLength(2);
  });

  test('settling twice is a no-op', async () => {
    const transport = create();
    const sink = await record(transport, { topics: ['a'], group: 'g' }, (delivery) => {
      delivery.ack();
      delivery.nack();
      delivery.deadLetter({ reason: 'REJECTED', error: { name: 'Error', message: 'late' } });
    });
    await transport.publish([msg('1', 'a')]);
    await waitFor(() => sink.deliveries.length === 1);
    await sleep(20);
    expect(sink.deliveries).toHaveLength(1);
    expect(await transport.deadLetters.list()).toEqual([]);
  });
});

describe('memoryTransport: visibility timeout', () => {
  test('an unsettled delivery is taken back: its signal aborts and the message comes back with attempt + 1', async () => {
    const transport = create();
    const sink = await record(
      transport,
      { topics: ['a'], group: 'g', visibilityTimeoutMs: 40 },
      (delivery) => {
        if (delivery.attempt === 2) delivery.ack();
      },
    );
    await transport.publish([msg('1', 'a')]);
    await waitFor(() => sink.deliveries.length === 1);
    const first = sink.deliveries[0] as Delivery;
    const signal = first.signal;
    expect(signal.aborted).toBe(false);
    await waitFor(() => sink.deliveries.length === 2);
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBeInstanceOf(TransportError);
    expect(String((signal.reason as Error).message)).toMatch(/lease/);
    expect(sink.deliveries.map((delivery) => delivery.attempt)).toEqual([1, 2]);
    expect(sink.deliveries[1]?.firstAttemptAt).toBe(first.firstAttemptAt);
    await sleep(100);
    expect(sink.deliveries).toHaveLength(2);
  });

  test('settling a delivery whose lease expired is a no-op; its signal reads as aborted', async () => {
    const transport = create();
    const sink = await record(
      transport,
      { topics: ['a'], group: 'g', visibilityTimeoutMs: 30 },
      (delivery) => {
        if (delivery.attempt === 2) delivery.ack();
      },
    );
    await transport.publish([msg('1', 'a')]);
    await waitFor(() => sink.deliveries.length === 2);
    const stale = sink.deliveries[0] as Delivery;
    stale.deadLetter({ reason: 'REJECTED', error: { name: 'Error', message: 'too late' } });
    stale.nack();
    stale.ack();
    expect(stale.signal.aborted).toBe(true);
    expect(await transport.deadLetters.list()).toEqual([]);
    await sleep(80);
    expect(sink.deliveries.map((delivery) => delivery.attempt)).toEqual([1, 2]);
  });

  test('an unsettled message blocks nothing else', async () => {
    const transport = create();
    const sink = await record(transport, { topics: ['a'], group: 'g', concurrency: 2 }, (delivery) => {
      if (delivery.message.id !== 'stuck') delivery.ack();
    });
    await transport.publish([msg('stuck', 'a'), msg('1', 'a'), msg('2', 'a'), msg('3', 'a')]);
    await waitFor(() => sink.deliveries.length === 4);
    expect(sink.ids()).toEqual(['stuck', '1', '2', '3']);
  });
});

describe('memoryTransport: per-key order', () => {
  test('a key waits while a message with that key is in flight; other keys and key-less messages flow', async () => {
    const transport = create();
    const sink = await record(transport, { topics: ['a'], group: 'g', concurrency: 10 }, hold);
    await transport.publish([
      msg('k1-1', 'a', { key: 'k1' }),
      msg('k1-2', 'a', { key: 'k1' }),
      msg('k2-1', 'a', { key: 'k2' }),
      msg('k1-3', 'a', { key: 'k1' }),
      msg('none-1', 'a'),
      msg('none-2', 'a'),
    ]);
    await waitFor(() => sink.deliveries.length === 4);
    await sleep(10);
    expect(sink.ids()).toEqual(['k1-1', 'k2-1', 'none-1', 'none-2']);
    sink.deliveries[0]?.ack();
    await waitFor(() => sink.deliveries.length === 5);
    expect(sink.ids()[4]).toBe('k1-2');
    sink.deliveries[4]?.ack();
    await waitFor(() => sink.deliveries.length === 6);
    await sleep(10);
    expect(sink.ids()).toEqual(['k1-1', 'k2-1', 'none-1', 'none-2', 'k1-2', 'k1-3']);
  });

  test('a nack delay keeps the key blocked until the message is redelivered and settled', async () => {
    const transport = create();
    const sink = await record(transport, { topics: ['a'], group: 'g', concurrency: 4 }, (delivery) => {
      if (delivery.message.id === 'k1-1' && delivery.attempt === 1) delivery.nack({ delayMs: 50 });
      else delivery.ack();
    });
    await transport.publish([
      msg('k1-1', 'a', { key: 'k1' }),
      msg('k1-2', 'a', { key: 'k1' }),
      msg('k2-1', 'a', { key: 'k2' }),
    ]);
    await waitFor(() => sink.deliveries.length === 4);
    expect(sink.deliveries.map((delivery) => `${delivery.message.id}#${delivery.attempt}`)).toEqual([
      'k1-1#1',
      'k2-1#1',
      'k1-1#2',
      'k1-2#1',
    ]);
  });

  test('a lease expiry keeps the key blocked: the expired message is redelivered before the next one', async () => {
    const transport = create();
    const sink = await record(
      transport,
      { topics: ['a'], group: 'g', concurrency: 4, visibilityTimeoutMs: 30 },
      (delivery) => {
        if (delivery.message.id !== 'k1-1' || delivery.attempt > 1) delivery.ack();
      },
    );
    await transport.publish([msg('k1-1', 'a', { key: 'k1' }), msg('k1-2', 'a', { key: 'k1' })]);
    await waitFor(() => sink.deliveries.length === 3);
    expect(sink.deliveries.map((delivery) => `${delivery.message.id}#${delivery.attempt}`)).toEqual([
      'k1-1#1',
      'k1-1#2',
      'k1-2#1',
    ]);
  });

  test('a dead-lettered message releases its key', async () => {
    const transport = create();
    const sink = await record(transport, { topics: ['a'], group: 'g' }, (delivery) =>
      delivery.message.id === 'k1-1'
        ? delivery.deadLetter({ reason: 'NON_RETRYABLE', error: { name: 'Error', message: 'no' } })
        : delivery.ack(),
    );
    await transport.publish([msg('k1-1', 'a', { key: 'k1' }), msg('k1-2', 'a', { key: 'k1' })]);
    await waitFor(() => sink.deliveries.length === 2);
    expect(sink.ids()).toEqual(['k1-1', 'k1-2']);
  });

  test('a group-less subscriber keeps per-key order too', async () => {
    const transport = create();
    const sink = await record(transport, { topics: ['a'], concurrency: 5 }, hold);
    await transport.publish([
      msg('k-1', 'a', { key: 'k' }),
      msg('k-2', 'a', { key: 'k' }),
      msg('j-1', 'a', { key: 'j' }),
    ]);
    await waitFor(() => sink.deliveries.length === 2);
    await sleep(10);
    expect(sink.ids()).toEqual(['k-1', 'j-1']);
    sink.deliveries[0]?.ack();
    await waitFor(() => sink.deliveries.length === 3);
    expect(sink.ids()).toEqual(['k-1', 'j-1', 'k-2']);
  });

  test('key-less messages have no order constraint: all are in flight at once', async () => {
    const transport = create();
    const sink = await record(transport, { topics: ['a'], group: 'g', concurrency: 3 }, hold);
    await transport.publish([msg('1', 'a'), msg('2', 'a'), msg('3', 'a')]);
    await waitFor(() => sink.deliveries.length === 3);
    expect(sink.ids()).toEqual(['1', '2', '3']);
  });
});

describe('memoryTransport: concurrency and handler failures', () => {
  test('at most `concurrency` deliveries are unsettled per subscriber', async () => {
    const transport = create();
    const sink = await record(transport, { topics: ['a'], group: 'g', concurrency: 3 }, hold);
    await transport.publish(Array.from({ length: 10 }, (_, i) => msg(`m${i}`, 'a')));
    await waitFor(() => sink.deliveries.length === 3);
    await sleep(20);
    expect(sink.ids()).toEqual(['m0', 'm1', 'm2']);
    sink.deliveries[1]?.ack();
    await waitFor(() => sink.deliveries.length === 4);
    await sleep(20);
    expect(sink.ids()).toEqual(['m0', 'm1', 'm2', 'm3']);
  });

  test('a throwing handler counts as nack without delay and is reported once through onError', async () => {
    const errors: unknown[] = [];
    const transport = create({ onError: (error) => errors.push(error) });
    const boom = new Error('boom');
    const sink = await record(transport, { topics: ['a'], group: 'g' }, (delivery) => {
      if (delivery.attempt === 1) throw boom;
      delivery.ack();
    });
    await transport.publish([msg('1', 'a')]);
    await waitFor(() => sink.deliveries.length === 2);
    await sleep(10);
    expect(sink.deliveries.map((delivery) => delivery.attempt)).toEqual([1, 2]);
    expect(errors).toEqual([boom]);
  });

  test('a rejecting async handler counts as nack without delay and is reported once', async () => {
    const errors: unknown[] = [];
    const transport = create({ onError: (error) => errors.push(error) });
    const sink = await record(transport, { topics: ['a'], group: 'g' }, async (delivery) => {
      await sleep(1);
      if (delivery.attempt === 1) throw new Error('async boom');
      delivery.ack();
    });
    await transport.publish([msg('1', 'a')]);
    await waitFor(() => sink.deliveries.length === 2);
    await sleep(10);
    expect(sink.deliveries.map((delivery) => delivery.attempt)).toEqual([1, 2]);
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toBe('async boom');
  });

  test('a handler that settles and then throws is not redelivered, but the error is reported', async () => {
    const errors: unknown[] = [];
    const transport = create({ onError: (error) => errors.push(error) });
    const sink = await record(transport, { topics: ['a'], group: 'g' }, (delivery) => {
      delivery.ack();
      throw new Error('after ack');
    });
    await transport.publish([msg('1', 'a')]);
    await waitFor(() => errors.length === 1);
    await sleep(10);
    expect(sink.deliveries).toHaveLength(1);
  });

  test('a handler that returns without settling leaves the delivery in flight', async () => {
    const transport = create();
    const sink = await record(transport, { topics: ['a'], group: 'g' }, async () => {});
    await transport.publish([msg('1', 'a'), msg('2', 'a')]);
    await waitFor(() => sink.deliveries.length === 1);
    await sleep(30);
    expect(sink.ids()).toEqual(['1']);
    sink.deliveries[0]?.ack();
    await waitFor(() => sink.deliveries.length === 2);
    expect(sink.ids()).toEqual(['1', '2']);
  });
});

describe('memoryTransport: delayed publish', () => {
  test('a delayed message arrives no earlier than its delay; undelayed ones pass it', async () => {
    const transport = create();
    const arrivals = new Map<string, number>();
    const sink = await record(transport, { topics: ['a'] }, (delivery) => {
      arrivals.set(delivery.message.id, Date.now());
      delivery.ack();
    });
    const publishedAt = Date.now();
    await transport.publish([msg('late', 'a', { delayMs: 60 }), msg('now', 'a')]);
    await waitFor(() => sink.deliveries.length === 2);
    expect(sink.ids()).toEqual(['now', 'late']);
    expect((arrivals.get('late') ?? 0) - publishedAt).toBeGreaterThanOrEqual(60);
  });

  test('delayed messages arrive in due order, whatever the publish order', async () => {
    const transport = create();
    const sink = await record(transport, { topics: ['a'], group: 'g' });
    await transport.publish([
      msg('60', 'a', { delayMs: 60 }),
      msg('20', 'a', { delayMs: 20 }),
      msg('40', 'a', { delayMs: 40 }),
      msg('20b', 'a', { delayMs: 20 }),
    ]);
    await waitFor(() => sink.deliveries.length === 4);
    expect(sink.ids()).toEqual(['20', '20b', '40', '60']);
  });
});

describe('memoryTransport: backpressure', () => {
  test('publish waits while a backlog exceeds highWaterMark, and nothing is dropped', async () => {
    const transport = create({ highWaterMark: 2 });
    const sink = await record(transport, { topics: ['a'], group: 'g' }, hold);
    await transport.publish([msg('1', 'a')]);
    await waitFor(() => sink.deliveries.length === 1);
    let released = false;
    const publishing = transport.publish([msg('2', 'a'), msg('3', 'a'), msg('4', 'a')]).then(() => {
      released = true;
    });
    await sleep(20);
    expect(released).toBe(false);
    sink.deliveries[0]?.ack();
    await waitFor(() => sink.deliveries.length === 2);
    sink.deliveries[1]?.ack();
    await waitFor(() => released);
    await publishing;
    for (let i = 2; i < 4; i++) {
      await waitFor(() => sink.deliveries.length === i + 1);
      sink.deliveries[i]?.ack();
    }
    expect(sink.ids()).toEqual(['1', '2', '3', '4']);
  });

  test('closing the transport releases waiting publishers', async () => {
    const transport = create({ highWaterMark: 1 });
    await record(transport, { topics: ['a'], group: 'g' }, hold);
    const publishing = transport.publish([msg('1', 'a'), msg('2', 'a'), msg('3', 'a')]);
    await transport.close({ timeoutMs: 0 });
    await expect(publishing).resolves.toBeUndefined();
  });

  test('a group without live members does not hold publishers back', async () => {
    const transport = create({ highWaterMark: 1 });
    const member = await record(transport, { topics: ['a'], group: 'g' });
    await member.subscription.close();
    await transport.publish([msg('1', 'a'), msg('2', 'a'), msg('3', 'a')]);
    const back = await record(transport, { topics: ['a'], group: 'g' });
    await waitFor(() => back.deliveries.length === 3);
    expect(back.ids()).toEqual(['1', '2', '3']);
  });
});

describe('memoryTransport: closing', () => {
  test('close waits for in-flight deliveries to settle, and hands out nothing new meanwhile', async () => {
    const transport = create();
    const sink = await record(transport, { topics: ['a'], group: 'g' }, hold);
    await transport.publish([msg('1', 'a'), msg('2', 'a')]);
    await waitFor(() => sink.deliveries.length === 1);
    let closed = false;
    const closing = sink.subscription.close({ timeoutMs: 2_000 }).then(() => {
      closed = true;
    });
    await sleep(20);
    expect(closed).toBe(false);
    sink.deliveries[0]?.ack();
    await closing;
    expect(sink.deliveries[0]?.signal.aborted).toBe(false);
    expect(sink.ids()).toEqual(['1']);
  });

  test('after timeoutMs, unsettled deliveries are aborted and redelivered to the group', async () => {
    const transport = create();
    const leaving = await record(transport, { topics: ['a'], group: 'g' }, hold);
    await transport.publish([msg('1', 'a')]);
    await waitFor(() => leaving.deliveries.length === 1);
    await leaving.subscription.close({ timeoutMs: 10 });
    const abandoned = leaving.deliveries[0] as Delivery;
    expect(abandoned.signal.aborted).toBe(true);
    expect(abandoned.signal.reason).toBeInstanceOf(TransportError);
    const staying = await record(transport, { topics: ['a'], group: 'g' });
    await waitFor(() => staying.deliveries.length === 1);
    expect(staying.ids()).toEqual(['1']);
    expect(staying.deliveries[0]?.attempt).toBe(2);
  });

  test('concurrent close calls share one promise; asyncDispose closes too', async () => {
    const transport = create();
    const sink = await record(transport, { topics: ['a'] });
    expect(sink.subscription.close()).toBe(sink.subscription.close());
    const other = await record(transport, { topics: ['a'] });
    await other.subscription[Symbol.asyncDispose]();
    await transport.publish([msg('1', 'a')]);
    await sleep(20);
    expect(sink.deliveries).toHaveLength(0);
    expect(other.deliveries).toHaveLength(0);
  });

  test('aborting the subscribe signal closes the subscription', async () => {
    const transport = create();
    const controller = new AbortController();
    const sink = await record(transport, { topics: ['a'], group: 'g', signal: controller.signal });
    await transport.publish([msg('1', 'a')]);
    await waitFor(() => sink.deliveries.length === 1);
    controller.abort();
    await sink.subscription.close();
    await transport.publish([msg('2', 'a')]);
    await sleep(20);
    expect(sink.ids()).toEqual(['1']);
  });

  test('a subscription whose signal is already aborted is closed at once', async () => {
    const transport = create();
    const sink = await record(transport, { topics: ['a'], signal: AbortSignal.abort() });
    await sink.subscription.close();
    await transport.publish([msg('1', 'a')]);
    await sleep(20);
    expect(sink.deliveries).toHaveLength(0);
  });

  test('close rejects a negative timeoutMs', async () => {
    const transport = create();
    const sink = await record(transport, { topics: ['a'] });
    await expect(sink.subscription.close({ timeoutMs: -1 })).rejects.toBeInstanceOf(InvalidOptionError);
    await expect(transport.close({ timeoutMs: Number.NaN })).rejects.toBeInstanceOf(InvalidOptionError);
  });

  test('transport.close closes every subscription; later publish, subscribe and redrive reject with ClosedError', async () => {
    const transport = create();
    const sink = await record(transport, { topics: ['a'] }, hold);
    await transport.publish([msg('1', 'a')]);
    await waitFor(() => sink.deliveries.length === 1);
    const closing = transport.close({ timeoutMs: 10 });
    expect(transport.close()).toBe(closing);
    await closing;
    expect(sink.deliveries[0]?.signal.aborted).toBe(true);
    await expect(transport.publish([msg('2', 'a')])).rejects.toBeInstanceOf(ClosedError);
    await expect(transport.subscribe({ topics: ['a'] }, hold)).rejects.toBeInstanceOf(ClosedError);
    await expect(transport.deadLetters.redrive()).rejects.toBeInstanceOf(ClosedError);
    expect(await transport.deadLetters.list()).toEqual([]);
  });

  test('aborting the transport signal closes the transport', async () => {
    const controller = new AbortController();
    const transport = create({ signal: controller.signal });
    controller.abort();
    await transport.close();
    await expect(transport.publish([msg('1', 'a')])).rejects.toBeInstanceOf(ClosedError);
  });
});

describe('memoryTransport: dead letters', () => {
  const reject = (delivery: Delivery): void | Promise<void> =>
    delivery.deadLetter({ reason: 'REJECTED', error: { name: 'Error', message: delivery.message.id } });

  async function withLetters(): Promise<Transport> {
    const transport = create();
    const mail = await record(transport, { pattern: '#', group: 'mail' }, reject);
    const audit = await record(transport, { topics: ['b'], group: 'audit' }, reject);
    await transport.publish([msg('1', 'a'), msg('2', 'b'), msg('3', 'a')]);
    await waitFor(() => mail.deliveries.length === 3 && audit.deliveries.length === 1);
    await mail.subscription.close();
    await audit.subscription.close();
    return transport;
  }

  const summary = (letters: ReadonlyArray<{ group?: string; message: TransportMessage }>): string[] =>
    letters.map((letter) => `${letter.group}:${letter.message.id}`);

  test('list filters by ids, group, topic and limit, oldest first, with unique ids', async () => {
    const transport = await withLetters();
    const all = await transport.deadLetters.list();
    expect(summary(all).sort()).toEqual(['audit:2', 'mail:1', 'mail:2', 'mail:3']);
    expect(new Set(all.map((letter) => letter.id)).size).toBe(4);
    const times = all.map((letter) => letter.deadLetteredAt);
    expect(times).toEqual([...times].sort());
    expect(summary(await transport.deadLetters.list({ group: 'mail' }))).toEqual([
      'mail:1',
      'mail:2',
      'mail:3',
    ]);
    expect(summary(await transport.deadLetters.list({ topic: 'b' })).sort()).toEqual(['audit:2', 'mail:2']);
    expect(summary(await transport.deadLetters.list({ group: 'mail', limit: 2 }))).toEqual([
      'mail:1',
      'mail:2',
    ]);
    const ids = all.slice(0, 2).map((letter) => letter.id);
    expect((await transport.deadLetters.list({ ids })).map((letter) => letter.id)).toEqual(ids);
    await expect(transport.deadLetters.list({ limit: -1 })).rejects.toBeInstanceOf(InvalidOptionError);
  });

  test('redrive sends letters back to their group with attempt 1 and removes them', async () => {
    const transport = await withLetters();
    expect(await transport.deadLetters.redrive({ group: 'mail', topic: 'a' })).toBe(2);
    expect(summary(await transport.deadLetters.list()).sort()).toEqual(['audit:2', 'mail:2']);
    const mail = await record(transport, { pattern: '#', group: 'mail' });
    const audit = await record(transport, { topics: ['b'], group: 'audit' });
    await waitFor(() => mail.deliveries.length === 2);
    await sleep(10);
    expect(mail.ids()).toEqual(['1', '3']);
    expect(mail.deliveries.map((delivery) => delivery.attempt)).toEqual([1, 1]);
    expect(audit.deliveries).toHaveLength(0);
  });

  test('purge removes letters for good', async () => {
    const transport = await withLetters();
    expect(await transport.deadLetters.purge({ topic: 'b' })).toBe(2);
    expect(summary(await transport.deadLetters.list())).toEqual(['mail:1', 'mail:3']);
    expect(await transport.deadLetters.purge()).toBe(2);
    expect(await transport.deadLetters.list()).toEqual([]);
  });

  test('a group-less letter has no group and is redriven to its subscriber while it is live', async () => {
    const transport = create();
    const sink = await record(transport, { topics: ['a'] }, (delivery) =>
      delivery.attempt === 1 ? reject(delivery) : delivery.ack(),
    );
    const bystander = await record(transport, { topics: ['z'] });
    await transport.publish([msg('1', 'a')]);
    await waitFor(() => sink.deliveries.length === 1);
    const [letter] = await transport.deadLetters.list();
    expect(letter).toBeDefined();
    expect(letter && 'group' in letter).toBe(false);
    expect(await transport.deadLetters.redrive()).toBe(1);
    await waitFor(() => sink.deliveries.length === 2);
    expect(sink.ids()).toEqual(['1', '1']);
    expect(sink.deliveries[1]?.attempt).toBe(1);
    expect(bystander.deliveries).toHaveLength(0);
  });

  test('a group-less letter whose subscriber closed goes to every current matching group-less subscriber', async () => {
    const transport = create();
    const gone = await record(transport, { topics: ['a'] }, reject);
    await transport.publish([msg('1', 'a')]);
    await waitFor(() => gone.deliveries.length === 1);
    await gone.subscription.close();
    expect(await transport.deadLetters.redrive()).toBe(0);
    const first = await record(transport, { topics: ['a'] });
    const second = await record(transport, { pattern: '*' });
    const other = await record(transport, { topics: ['b'] });
    const group = await record(transport, { topics: ['a'], group: 'g' });
    expect(await transport.deadLetters.redrive()).toBe(1);
    await waitFor(() => first.deliveries.length === 1 && second.deliveries.length === 1);
    await sleep(10);
    expect(first.ids()).toEqual(['1']);
    expect(second.ids()).toEqual(['1']);
    expect(other.deliveries).toHaveLength(0);
    expect(group.deliveries).toHaveLength(0);
    expect(await transport.deadLetters.list()).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { InvalidOptionError, TransportError, TransportUnavailableError } from '../errors';
import type { DeadLetterInput, TransportMessage } from '../transport/transport';
import {
  checkDeadLetterFilter,
  checkPublishBatch,
  connectionError,
  createDeadLetter,
  DeliveryState,
  invokeHandler,
  KeyedDispatcher,
  KitDelivery,
  SubscriptionHandle,
  selectDeadLetters,
  unsupportedDeadLetters,
} from './index';

type Settled = { kind: 'ack' } | { kind: 'nack'; delayMs: number } | { kind: 'dead'; input: DeadLetterInput };

class TestDelivery extends KitDelivery {
  readonly settled: Settled[] = [];
  onSettle: ((delivery: TestDelivery) => void) | undefined;

  protected settleAck(): void {
    this.settled.push({ kind: 'ack' });
    this.onSettle?.(this);
  }

  protected settleNack(delayMs: number): void {
    this.settled.push({ kind: 'nack', delayMs });
    this.onSettle?.(this);
  }

  protected settleDeadLetter(input: DeadLetterInput): void {
    this.settled.push({ kind: 'dead', input });
    this.onSettle?.(this);
  }
}

function message(id: string, key?: string): TransportMessage {
  return key === undefined ? { id, topic: 't', body: id } : { id, topic: 't', key, body: id };
}

const deadInput: DeadLetterInput = { reason: 'REJECTED', error: { name: 'Error', message: 'no' } };

describe('KitDelivery', () => {
  it('settles once: later ack, nack and deadLetter calls change nothing', () => {
    const delivery = new TestDelivery(message('a'), 1, 5);
    delivery.ack();
    delivery.nack();
    delivery.deadLetter(deadInput);
    expect(delivery.settled).toEqual([{ kind: 'ack' }]);
    expect(delivery.state).toBe(DeliveryState.DONE);
  });

  it('does not settle while queued; start() moves it in flight and stamps the first attempt', () => {
    const delivery = new TestDelivery(message('a'), 1, 0, DeliveryState.QUEUED);
    delivery.ack();
    expect(delivery.settled).toEqual([]);
    delivery.start(1_000, 30);
    expect([delivery.inFlight, delivery.firstAttemptAt, delivery.startedAt, delivery.deadline]).toEqual([
      true,
      1_000,
      1_000,
      1_030,
    ]);
    delivery.nack({ delayMs: 20 });
    expect(delivery.settled).toEqual([{ kind: 'nack', delayMs: 20 }]);
  });

  it('rejects a bad nack delay before anything changes', () => {
    const delivery = new TestDelivery(message('a'), 1, 5);
    for (const delayMs of [-1, Number.NaN, Number.POSITIVE_INFINITY, '5' as unknown as number]) {
      expect(() => delivery.nack({ delayMs })).toThrow(InvalidOptionError);
    }
    expect(delivery.inFlight).toBe(true);
  });

  it('discard() retires a queued delivery without settling it', () => {
    const delivery = new TestDelivery(message('a'), 1, 0, DeliveryState.QUEUED);
    expect(delivery.discard()).toBe(true);
    delivery.start(1, 10);
    expect(delivery.discard()).toBe(false);
    expect(delivery.settled).toEqual([]);
  });

  it('makes its signal on first read, aborted with the take-back reason even if read afterwards', () => {
    const delivery = new TestDelivery(message('a'), 2, 5);
    const reason = new Error('lease lost');
    expect(delivery.takeBack(reason)).toBe(true);
    expect(delivery.takeBack(new Error('again'))).toBe(false);
    expect(delivery.signal.aborted).toBe(true);
    expect(delivery.signal.reason).toBe(reason);
    delivery.ack();
    expect(delivery.settled).toEqual([]);
  });
});

describe('invokeHandler', () => {
  it('routes a synchronous throw and a rejection to onError, and nothing else', async () => {
    const seen: unknown[] = [];
    const onError = (error: unknown): void => void seen.push(error);
    invokeHandler(
      () => {
        throw new Error('sync');
      },
      1,
      onError,
    );
    invokeHandler(() => Promise.reject(new Error('async')), 2, onError);
    invokeHandler(() => 'fine', 3, onError);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(seen.map((error) => (error as Error).message)).toEqual(['sync', 'async']);
  });
});

describe('KeyedDispatcher', () => {
  function setup(concurrency: number, visibilityTimeoutMs = 10_000) {
    const started: TestDelivery[] = [];
    const expired: TestDelivery[] = [];
    const dispatcher: KeyedDispatcher<TestDelivery> = new KeyedDispatcher<TestDelivery>(
      { handle: (delivery) => started.push(delivery), expired: (delivery) => expired.push(delivery) },
      { concurrency, visibilityTimeoutMs },
    );
    const push = (id: string, key?: string): TestDelivery => {
      const delivery = new TestDelivery(message(id, key), 1, 0, DeliveryState.QUEUED);
      delivery.onSettle = (settled) => dispatcher.finish(settled);
      dispatcher.push(delivery);
      return delivery;
    };
    const ids = (): string[] => started.map((delivery) => delivery.message.id);
    return { dispatcher, started, expired, push, ids };
  }

  it('keeps at most `concurrency` in flight and hands out the rest as slots free up', () => {
    const { push, ids, started, dispatcher } = setup(2);
    for (const id of ['a', 'b', 'c', 'd']) push(id);
    expect(ids()).toEqual(['a', 'b']);
    started[0]?.ack();
    expect(ids()).toEqual(['a', 'b', 'c']);
    expect(dispatcher.inflight.size).toBe(2);
  });

  it('runs one delivery per key at a time, in arrival order, while other keys go ahead', () => {
    const { push, ids, started, dispatcher } = setup(4);
    push('k1-1', 'k1');
    push('k1-2', 'k1');
    push('k2-1', 'k2');
    push('free');
    push('k1-3', 'k1');
    expect(ids()).toEqual(['k1-1', 'k2-1', 'free']);
    expect(dispatcher.queued).toBe(2);
    started[0]?.ack();
    expect(ids()).toEqual(['k1-1', 'k2-1', 'free', 'k1-2']);
    started[3]?.deadLetter(deadInput);
    expect(ids()).toEqual(['k1-1', 'k2-1', 'free', 'k1-2', 'k1-3']);
  });

  it('hands a retry passed to finish() out first, still holding its key', () => {
    const { push, ids, started, dispatcher } = setup(1);
    const first = push('k-1', 'k');
    push('k-2', 'k');
    const retry = new TestDelivery(message('k-1', 'k'), 2, first.firstAttemptAt, DeliveryState.QUEUED);
    retry.onSettle = (settled) => dispatcher.finish(settled);
    first.state = DeliveryState.DONE;
    dispatcher.finish(first, retry);
    expect(ids()).toEqual(['k-1', 'k-1']);
    expect(started[1]?.attempt).toBe(2);
    started[1]?.ack();
    expect(ids()).toEqual(['k-1', 'k-1', 'k-2']);
  });

  it('reports deliveries past their visibility timeout, and only those in flight', async () => {
    const { push, expired, started } = setup(2, 30);
    push('slow');
    push('quick');
    started[1]?.ack();
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(expired.map((delivery) => delivery.message.id)).toContain('slow');
    expect(expired.map((delivery) => delivery.message.id)).not.toContain('quick');
    started[0]?.ack();
  });

  it('close() returns what waits, whenIdle() waits for what runs', async () => {
    const { push, started, dispatcher } = setup(1);
    push('a', 'k');
    push('b', 'k');
    push('c');
    const left = dispatcher.close();
    expect(left.map((delivery) => delivery.message.id).sort()).toEqual(['b', 'c']);
    expect(await dispatcher.whenIdle(10)).toBe(false);
    const idle = dispatcher.whenIdle(1_000);
    started[0]?.ack();
    expect(await idle).toBe(true);
    push('late');
    expect(started).toHaveLength(1);
  });
});

describe('SubscriptionHandle', () => {
  it('shares one close, checks timeoutMs first and closes when the signal aborts', async () => {
    const calls: number[] = [];
    const handle = new SubscriptionHandle({
      defaultTimeoutMs: 50,
      close: async (timeoutMs) => void calls.push(timeoutMs),
    });
    await expect(handle.close({ timeoutMs: -1 })).rejects.toBeInstanceOf(InvalidOptionError);
    expect(handle.closed).toBe(false);
    const first = handle.close();
    expect(handle.close({ timeoutMs: 5 })).toBe(first);
    await first;
    expect(calls).toEqual([50]);

    const controller = new AbortController();
    const aborted: number[] = [];
    new SubscriptionHandle({
      close: async (timeoutMs) => void aborted.push(timeoutMs),
      signal: controller.signal,
    });
    controller.abort();
    expect(aborted).toEqual([10_000]);
  });
});

describe('dead-letter helpers', () => {
  const letters = ['a', 'b', 'c'].map((id, index) =>
    createDeadLetter({
      id,
      message: { id: `m${index}`, topic: index === 2 ? 'other' : 't', body: null },
      group: index === 0 ? undefined : 'g',
      input: deadInput,
      attempts: 3,
      firstAttemptAt: 0,
      lastAttemptAt: 1_000,
      deadLetteredAt: 2_000,
    }),
  );

  it('builds letters with ISO times and no group key for group-less subscribers', () => {
    expect(letters[0]).toEqual({
      id: 'a',
      message: { id: 'm0', topic: 't', body: null },
      reason: 'REJECTED',
      error: deadInput.error,
      attempts: 3,
      firstAttemptAt: '1970-01-01T00:00:00.000Z',
      lastAttemptAt: '1970-01-01T00:00:01.000Z',
      deadLetteredAt: '1970-01-01T00:00:02.000Z',
    });
    expect('group' in (letters[0] as object)).toBe(false);
  });

  it('selects by ids, group, topic and limit, in order', () => {
    const id = (letter: { id: string }): string => letter.id;
    expect(selectDeadLetters(letters, { group: 'g' }, (l) => l).map(id)).toEqual(['b', 'c']);
    expect(selectDeadLetters(letters, { topic: 't', limit: 1 }, (l) => l).map(id)).toEqual(['a']);
    expect(selectDeadLetters(letters, { ids: ['c', 'a'] }, (l) => l).map(id)).toEqual(['a', 'c']);
    expect(selectDeadLetters(letters, { limit: 0 }, (l) => l)).toEqual([]);
  });

  it('refuses malformed filters naming the field', () => {
    expect(() => checkDeadLetterFilter({ limit: -1 }, 'deadLetters.list()')).toThrow(/limit/);
    expect(() => checkDeadLetterFilter({ ids: 'a' as unknown as string[] }, 'deadLetters.list()')).toThrow(
      /ids/,
    );
  });

  it('unsupportedDeadLetters rejects with UNSUPPORTED and says where the letters went', async () => {
    const error = await unsupportedDeadLetters('sqs', 'the redrive target queue')
      .list()
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ code: 'UNSUPPORTED' });
    expect((error as Error).message).toMatch(/redrive target queue/);
  });
});

describe('checkPublishBatch and connectionError', () => {
  it('names the first bad message field', () => {
    expect(checkPublishBatch([message('a')], 'x.publish()')).toBeUndefined();
    expect(
      checkPublishBatch([message('a'), { id: 'b', topic: '', body: 1 }], 'x.publish()')?.message,
    ).toMatch(/messages\[1\]\.topic/);
    expect(
      checkPublishBatch([{ id: 'b', topic: 't', body: 1, delayMs: -5 }], 'x.publish()')?.message,
    ).toMatch(/messages\[0\]\.delayMs/);
  });

  it('maps socket failures to TransportUnavailableError and keeps the cause', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const mapped = connectionError('amqp', '127.0.0.1:1', 'connecting', refused);
    expect(mapped).toBeInstanceOf(TransportUnavailableError);
    expect(mapped.message).toMatch(/127\.0\.0\.1:1/);
    expect(mapped.cause).toBe(refused);
    const refusedCommand = connectionError(
      'amqp',
      '127.0.0.1:1',
      'declaring',
      new Error('PRECONDITION_FAILED'),
    );
    expect(refusedCommand).toBeInstanceOf(TransportError);
    expect(refusedCommand).not.toBeInstanceOf(TransportUnavailableError);
  });
});

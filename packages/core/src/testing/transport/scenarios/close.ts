import type { Delivery, TransportSubscribeOptions } from '../../../transport/transport';
import { expect } from '../../expect';
import {
  aborted,
  deferred,
  expectExactlyOnce,
  expectSameMessage,
  idsOf,
  type Tracked,
  track,
} from '../assertions';
import type { Harness } from '../harness';
import type { Scenario } from '../scenario';

const TOPIC = 'conformance.closing';

/** Waits until every tracked close() settled and asserts that each resolved. */
async function expectAllResolve(h: Harness, closes: ReadonlyArray<Tracked>, what: string): Promise<void> {
  await h.waitFor(
    () => closes.every((close) => close.state() !== 'pending'),
    () => `${what} to settle (${closes.map((close) => close.state()).join(', ')})`,
  );
  expect(
    closes.map((close) =>
      close.state() === 'rejected' ? `rejected: ${String(close.error())}` : close.state(),
    ),
    `${what} all resolve`,
  ).toEqual(closes.map(() => 'resolved'));
}

/** A handler that holds its delivery until released, then acks; records what it was given. */
function gatedHandler(): {
  readonly calls: string[];
  readonly release: () => void;
  readonly ackedIds: string[];
  readonly handle: (delivery: Delivery) => Promise<void>;
} {
  const gate = deferred();
  const calls: string[] = [];
  const ackedIds: string[] = [];
  return {
    calls,
    ackedIds,
    release: () => gate.resolve(),
    handle: async (delivery) => {
      calls.push(delivery.message.id);
      await gate.promise;
      await delivery.ack();
      ackedIds.push(delivery.message.id);
    },
  };
}

async function closeSubscription(h: Harness, group: string | undefined): Promise<void> {
  const publisher = await h.transport();
  const consumer = await h.peer();
  const handler = gatedHandler();
  const grouping: Pick<TransportSubscribeOptions, 'group'> = group === undefined ? {} : { group };
  const subscription = await consumer.subscribe(
    { topics: [TOPIC], concurrency: 1, ...grouping },
    handler.handle,
  );
  const inFlight = h.message(TOPIC, { label: 'in-flight' });
  await publisher.publish([inFlight]);
  await h.waitFor(() => handler.calls.length === 1, `the delivery of ${inFlight.id}`);

  const closes = [
    subscription.close({ timeoutMs: h.timeoutMs }),
    subscription.close({ timeoutMs: h.timeoutMs }),
  ];
  const tracked = closes.map(track);
  const duringClose = h.message(TOPIC, { label: 'during-close' });
  await publisher.publish([duringClose]);
  await h.quiet();
  expect(
    tracked.map((close) => close.state()),
    'close() waits while a delivery is in flight',
  ).toEqual(['pending', 'pending']);
  handler.release();
  await expectAllResolve(h, tracked, 'two concurrent subscription.close() calls');
  expect(handler.ackedIds, 'the in-flight handler finished and acked before close() resolved').toEqual([
    inFlight.id,
  ]);

  const afterClose = h.message(TOPIC, { label: 'after-close' });
  await publisher.publish([afterClose]);
  await h.quiet();
  expect(handler.calls, 'a closing or closed subscription takes no new delivery').toEqual([inFlight.id]);
  if (group === undefined) return;

  // The ack made while closing was honoured, and what arrived meanwhile waited for the group.
  const reopened = await h.collect(await h.peer(), { topics: [TOPIC], group });
  await reopened.waitForCount(2, { message: 'the messages published during and after close' });
  await h.quiet();
  expectExactlyOnce(reopened.ids(), idsOf([duringClose, afterClose]), `reopened group "${group}"`);
}

async function closeTimeoutLeavesForRedelivery(h: Harness): Promise<void> {
  const publisher = await h.transport();
  const visibilityTimeoutMs = h.visibilityTimeoutMs;
  let first: Delivery | undefined;
  const subscription = await (await h.peer()).subscribe(
    { topics: [TOPIC], group: 'slow', visibilityTimeoutMs },
    async (delivery) => {
      first = delivery;
      await aborted(delivery.signal);
    },
  );
  const message = h.message(TOPIC);
  await publisher.publish([message]);
  await h.waitFor(() => first !== undefined, `the delivery of ${message.id}`);

  await expectAllResolve(
    h,
    [track(subscription.close({ timeoutMs: h.ms(100) }))],
    'close({ timeoutMs: 100 })',
  );
  expect(first?.signal.aborted, 'the signal of a delivery still unsettled when close() gives up').toBe(true);

  const reopened = await h.collect(await h.peer(), { topics: [TOPIC], group: 'slow', visibilityTimeoutMs });
  await reopened.waitForCount(1, {
    message: `${message.id}, left unsettled by close(), to be redelivered`,
    timeoutMs: visibilityTimeoutMs + h.timeoutMs,
  });
  const [redelivered] = reopened.received;
  expectSameMessage(redelivered?.delivery.message ?? message, message, 'redelivery after close()');
  expect(redelivered?.delivery.attempt, 'attempt of the redelivery').toBe(2);
}

async function closeTransport(h: Harness, group: string | undefined): Promise<void> {
  const transport = await h.transport();
  const handler = gatedHandler();
  const grouping: Pick<TransportSubscribeOptions, 'group'> = group === undefined ? {} : { group };
  await transport.subscribe({ topics: [TOPIC], concurrency: 1, ...grouping }, handler.handle);
  const inFlight = h.message(TOPIC, { label: 'in-flight' });
  await transport.publish([inFlight]);
  await h.waitFor(() => handler.calls.length === 1, `the delivery of ${inFlight.id}`);

  const tracked = [
    transport.close({ timeoutMs: h.timeoutMs }),
    transport.close({ timeoutMs: h.timeoutMs }),
  ].map(track);
  await h.quiet();
  expect(
    tracked.map((close) => close.state()),
    'transport.close() waits while a delivery is in flight',
  ).toEqual(['pending', 'pending']);
  handler.release();
  await expectAllResolve(h, tracked, 'two concurrent transport.close() calls');
  expect(handler.ackedIds, 'the in-flight handler finished and acked before close() resolved').toEqual([
    inFlight.id,
  ]);
  if (group === undefined) return;

  // Another process of the same deployment: the ack made while closing holds, so only the new message comes.
  const next = await h.newInstance();
  const reopened = await h.collect(next, { topics: [TOPIC], group });
  const sentinel = h.message(TOPIC, { label: 'sentinel' });
  await next.publish([sentinel]);
  await reopened.waitForCount(1, { message: 'the sentinel message' });
  await h.quiet();
  expect(reopened.ids(), `group "${group}" after the ack made during close()`).toEqual([sentinel.id]);
}

async function signalAndDispose(h: Harness): Promise<void> {
  const publisher = await h.transport();
  const consumer = await h.peer();
  const controller = new AbortController();
  const viaSignal = await h.collect(consumer, { topics: [TOPIC], signal: controller.signal });
  const viaDispose = await h.collect(consumer, { topics: [TOPIC] });
  const before = h.message(TOPIC, { label: 'before' });
  await publisher.publish([before]);
  await viaSignal.waitForCount(1);
  await viaDispose.waitForCount(1);

  controller.abort();
  await viaDispose.subscription[Symbol.asyncDispose]();
  await publisher.publish([h.message(TOPIC, { label: 'after' })]);
  await h.quiet();
  expect(viaSignal.ids(), 'a subscription whose signal was aborted takes no new delivery').toEqual([
    before.id,
  ]);
  expect(viaDispose.ids(), 'a disposed subscription takes no new delivery').toEqual([before.id]);
}

/** Scenario 7: close() is idempotent, waits for in-flight work, honours its acks and stops deliveries. */
export const closeScenario: Scenario = {
  name: 'close',
  tests: [
    {
      title:
        'concurrent subscription.close() calls resolve after the in-flight delivery; nothing is delivered after',
      run: (h) => closeSubscription(h, undefined),
    },
    {
      title:
        'closing a group member honours the ack made while closing and keeps later messages for the group',
      requires: ['groups'],
      run: (h) => closeSubscription(h, 'closing'),
    },
    {
      title: 'close({ timeoutMs }) aborts a delivery still unsettled and leaves it for redelivery',
      requires: ['groups'],
      run: closeTimeoutLeavesForRedelivery,
    },
    {
      title: 'concurrent transport.close() calls resolve after the in-flight handler acked',
      run: (h) => closeTransport(h, undefined),
    },
    {
      title: 'an ack made while the transport closes holds for the next process of the group',
      requires: ['groups', 'sharedBackend'],
      run: (h) => closeTransport(h, 'closing'),
    },
    {
      title: 'aborting the subscribe signal, or disposing the subscription, stops its deliveries',
      run: signalAndDispose,
    },
  ],
};

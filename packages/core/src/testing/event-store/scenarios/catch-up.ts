import type { EventStore, ReadAllOptions, StoredEvent } from '../../../store/event-store';
import { subscribeToAll } from '../../../store/read-helpers';
import { expect } from '../../expect';
import { sleep } from '../../wait-for';
import { describeError, expectSameEvents, readAllOf } from '../assertions';
import type { StoreHarness } from '../harness';
import type { StoreScenario } from '../scenario';

const PLAIN = 'conformance.plain';
const MARKED = 'conformance.marked';
const WRITERS = 4;
const PER_WRITER = 500;
const TOTAL = WRITERS * PER_WRITER;
const PAGE = 50;

/** A running catch-up subscription that records what it yields. */
interface Subscriber {
  readonly events: StoredEvent[];
  readonly controller: AbortController;
  /** Settles when the iteration ends; never rejects (see `failure`). */
  readonly ended: Promise<void>;
  readonly failure: () => unknown;
}

/**
 * The store as the subscriptions see it: each page read first yields to the event loop. It changes no result, but
 * a store that makes subscriptions spin (a wait that resolves with nothing new) then fails the bounded waits
 * instead of starving every timer, the test timeout included.
 */
function yieldingView(store: EventStore): EventStore {
  return {
    name: store.name,
    append: (stream, events, options) => store.append(stream, events, options),
    readStream: (stream, options) => store.readStream(stream, options),
    readAll: (options) => store.readAll(options),
    readPage: async (options) => {
      await new Promise<void>((resolve) => setImmediate(resolve));
      return store.readPage(options);
    },
    streamVersion: (stream) => store.streamVersion(stream),
    headPosition: () => store.headPosition(),
    waitForEvents: (from, signal) => store.waitForEvents(from, signal),
    close: () => store.close(),
  };
}

function subscribe(
  store: EventStore,
  options: ReadAllOptions,
  onEvent: (event: StoredEvent, count: number) => void | Promise<void> = () => {},
): Subscriber {
  const controller = new AbortController();
  const events: StoredEvent[] = [];
  let failure: unknown;
  const ended = (async () => {
    for await (const event of subscribeToAll(yieldingView(store), {
      ...options,
      signal: controller.signal,
    })) {
      events.push(event);
      await onEvent(event, events.length);
    }
  })().catch((error: unknown) => {
    failure = error ?? new Error('the subscription failed with no reason');
  });
  return { events, controller, ended, failure: () => failure };
}

function checkFailure(subscriber: Subscriber, what: string): void {
  const failure = subscriber.failure();
  if (failure !== undefined) throw new Error(`${what} failed: ${describeError(failure)}`);
}

async function waitForAll(
  h: StoreHarness,
  subscriber: Subscriber,
  count: number,
  what: string,
): Promise<void> {
  await h.waitFor(
    () => {
      checkFailure(subscriber, what);
      return subscriber.events.length >= count;
    },
    () => `${what} to yield ${count} events (got ${subscriber.events.length})`,
    h.ms(15_000),
  );
}

async function stop(h: StoreHarness, subscriber: Subscriber, what: string): Promise<void> {
  subscriber.controller.abort(new Error('conformance: stop'));
  await h.within(subscriber.ended, `${what}: the iteration must end after its signal aborts`);
  checkFailure(subscriber, `${what} (ending quietly on abort)`);
}

async function racingWriters(h: StoreHarness): Promise<void> {
  const store = await h.store();
  let written = 0;
  let midway: string | undefined;
  const writers = Array.from({ length: WRITERS }, async (_, writer) => {
    const stream = h.stream(`w${writer}`);
    let count = 0;
    for (let batch = 0; count < PER_WRITER; batch++) {
      const size = Math.min(PER_WRITER - count, 1 + ((batch * 7 + writer) % 9));
      const events = Array.from({ length: size }, (_, index) =>
        h.event((count + index) % 5 === 0 ? MARKED : PLAIN, { label: `w${writer}.${count + index}` }),
      );
      const result = await store.append(stream, events);
      count += size;
      written += size;
      if (midway === undefined && written >= TOTAL / 4) midway = result.lastPosition;
      await sleep(0);
    }
  });
  const writing = Promise.all(writers);
  await h.waitFor(
    () => midway !== undefined,
    () => `the writers to append a quarter of the events (${written} so far)`,
  );
  const mid = midway ?? '';
  // A consumer that sometimes falls behind the writers moves the history/live seam around.
  const slowdown = async (_: StoredEvent, count: number): Promise<void> => {
    if (count % 97 === 0) await sleep(1);
  };
  const fromStart = subscribe(store, { batchSize: PAGE }, slowdown);
  const fromMid = subscribe(store, { from: mid, batchSize: PAGE }, slowdown);
  const filtered = subscribe(store, { types: [MARKED], batchSize: PAGE });
  await h.within(writing, 'the writers', h.ms(15_000));

  const expected = await readAllOf(store);
  expect(expected.length, 'every append landed in the log').toBe(TOTAL);
  const cases = [
    { subscriber: fromStart, events: expected, what: 'subscribeToAll() from the start' },
    {
      subscriber: fromMid,
      events: await readAllOf(store, { from: mid }),
      what: `subscribeToAll({ from: ${mid} })`,
    },
    {
      subscriber: filtered,
      events: await readAllOf(store, { types: [MARKED] }),
      what: 'subscribeToAll({ types })',
    },
  ];
  for (const { subscriber, events, what } of cases) await waitForAll(h, subscriber, events.length, what);
  await h.quiet();
  for (const { subscriber, events, what } of cases) {
    expectSameEvents(
      subscriber.events,
      events,
      `${what}, started while ${WRITERS} writers raced (no gap, no duplicate)`,
    );
    await stop(h, subscriber, what);
  }
}

async function historyThenLive(h: StoreHarness): Promise<void> {
  const store = await h.store();
  const stream = h.stream('live');
  const history = (await store.append(stream, h.events(120, PLAIN, 'old'))).events;
  const subscriber = subscribe(store, { batchSize: PAGE });
  await waitForAll(h, subscriber, history.length, 'the subscription to read the history');
  const live: StoredEvent[] = [];
  for (let batch = 0; batch < 10; batch++) {
    live.push(...(await store.append(stream, h.events(3, PLAIN, `live${batch}.`))).events);
    await waitForAll(h, subscriber, history.length + live.length, `live batch ${batch}`);
  }
  await h.quiet();
  expectSameEvents(subscriber.events, [...history, ...live], 'history, then every live append');
  await stop(h, subscriber, 'a live subscription');
  await store.append(stream, h.events(2, PLAIN, 'after'));
  await h.quiet();
  expect(subscriber.events.length, 'nothing is yielded after the signal aborted').toBe(
    history.length + live.length,
  );
}

async function abortEnds(h: StoreHarness): Promise<void> {
  const store = await h.store();
  await store.append(h.stream('a'), h.events(100, PLAIN, 'e'));
  const aborted = new AbortController();
  aborted.abort(new Error('conformance: aborted before start'));
  const none: StoredEvent[] = [];
  const early = (async () => {
    for await (const event of subscribeToAll(yieldingView(store), { signal: aborted.signal }))
      none.push(event);
  })();
  await h.within(early, 'subscribeToAll with an aborted signal');
  expect(none.length, 'an already-aborted subscription yields nothing').toBe(0);

  const midHistory = subscribe(store, { batchSize: 30 }, (_, count) => {
    if (count === 10) midHistory.controller.abort(new Error('conformance: enough'));
  });
  await h.within(midHistory.ended, 'a subscription aborted while reading history');
  checkFailure(midHistory, 'a subscription aborted while reading history');
  expect(midHistory.events.length, 'aborting in the middle of the history stops the iteration at once').toBe(
    10,
  );

  const waiting = subscribe(store, {});
  await waitForAll(h, waiting, 100, 'the subscription to reach the head');
  await stop(h, waiting, 'a subscription waiting for new events');
}

/**
 * Scenario: catch-up subscriptions (`subscribeToAll`) over the store's `readPage` and `waitForEvents`.
 *
 * @example
 * ```ts
 * for (const test of catchUpScenario.tests) it(test.title, () => test.run(harness));
 * ```
 */
export const catchUpScenario: StoreScenario = {
  name: 'catch-up',
  tests: [
    {
      title: `started while ${WRITERS} writers append ${TOTAL} events, from the start, from a mid position and filtered: exactly readAll's sequence`,
      run: racingWriters,
    },
    { title: 'history first, then each live append, with nothing after abort', run: historyThenLive },
    {
      title:
        'an aborted signal ends the iteration: before start, in the middle of history, and while waiting',
      run: abortEnds,
    },
  ],
};

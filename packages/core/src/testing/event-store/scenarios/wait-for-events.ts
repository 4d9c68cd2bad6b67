import { expect } from '../../expect';
import { describeError, track } from '../assertions';
import type { StoreHarness } from '../harness';
import type { StoreScenario } from '../scenario';

const TYPE = 'conformance.awaited';

async function resolvesWhenAvailable(h: StoreHarness): Promise<void> {
  const store = await h.store();
  const first = await store.append(h.stream('a'), h.events(3, TYPE));
  await h.within(store.waitForEvents(undefined), 'waitForEvents(undefined) with 3 events in the store');
  await h.within(
    store.waitForEvents(first.firstPosition),
    'waitForEvents(position of the first event) with 2 events after it',
  );
}

async function waitsForNew(h: StoreHarness): Promise<void> {
  const store = await h.store();
  // A wait that resolves with nothing new makes every catch-up subscription spin; spurious wake-ups are allowed
  // by the contract, immediate ones are not.
  const onEmpty = store.waitForEvents(undefined);
  const emptyWait = track(onEmpty);
  await h.quiet();
  expect(emptyWait.state(), 'waitForEvents(undefined) on an empty store waits').toBe('pending');
  const appended = await store.append(h.stream('a'), h.events(1, TYPE));
  await h.within(onEmpty, 'waitForEvents(undefined) after the first append');

  const atHead = store.waitForEvents(appended.lastPosition);
  const headWait = track(atHead);
  await h.quiet();
  expect(headWait.state(), 'waitForEvents(head) waits').toBe('pending');
  await store.append(h.stream('b'), h.events(2, TYPE));
  await h.within(atHead, 'waitForEvents(head) after an append to another stream');
}

async function abortRejects(h: StoreHarness): Promise<void> {
  const store = await h.store();
  const head = (await store.append(h.stream('a'), h.events(1, TYPE))).lastPosition;
  const controller = new AbortController();
  const reason = new Error('conformance: stop waiting');
  const waiting = store.waitForEvents(head, controller.signal);
  const state = track(waiting);
  await h.quiet();
  expect(state.state(), 'waitForEvents(head, signal) waits').toBe('pending');
  controller.abort(reason);
  const outcome = await h.within(
    waiting.then(
      () => 'resolved',
      (error: unknown) => error,
    ),
    'waitForEvents after its signal aborted',
  );
  expect(outcome, `waitForEvents rejects with the abort reason (got ${describeError(outcome)})`).toBe(reason);

  const already = new AbortController();
  const early = new Error('conformance: aborted before');
  already.abort(early);
  const outcomeEarly = await h.within(
    store.waitForEvents(head, already.signal).then(
      () => 'resolved',
      (error: unknown) => error,
    ),
    'waitForEvents with an aborted signal',
  );
  expect(outcomeEarly, 'waitForEvents with an already-aborted signal rejects with its reason').toBe(early);
}

/**
 * Scenario: `waitForEvents`, the wake-up hint catch-up subscriptions wait on.
 *
 * @example
 * ```ts
 * for (const test of waitForEventsScenario.tests) it(test.title, () => test.run(harness));
 * ```
 */
export const waitForEventsScenario: StoreScenario = {
  name: 'wait-for-events',
  tests: [
    { title: 'resolves when an event after `from` already exists', run: resolvesWhenAvailable },
    { title: 'waits at the head (and on an empty store) until an append', run: waitsForNew },
    {
      title: 'rejects with the abort reason when its signal aborts, or was aborted already',
      run: abortRejects,
    },
  ],
};

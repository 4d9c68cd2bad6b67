import type { AppendResult, EventStore } from '../../../store/event-store';
import { expect } from '../../expect';
import { expectConflict, keyOf, readAllOf, snapshotOf } from '../assertions';
import type { StoreHarness } from '../harness';
import type { StoreScenario } from '../scenario';

const TYPE = 'conformance.idempotent';

function summary(result: AppendResult): unknown {
  return {
    stream: result.stream,
    streamVersion: result.streamVersion,
    firstPosition: result.firstPosition,
    lastPosition: result.lastPosition,
    events: result.events.map(keyOf),
  };
}

async function expectReplayed(
  store: EventStore,
  stream: string,
  retry: () => Promise<AppendResult>,
  original: AppendResult,
  what: string,
): Promise<void> {
  const before = await snapshotOf(store, stream);
  const result = await retry();
  expect(summary(result), `${what}: returns the original result`).toEqual(summary(original));
  expect(await snapshotOf(store, stream), `${what}: writes nothing new`).toEqual(before);
}

async function sameVersions(h: StoreHarness): Promise<void> {
  const store = await h.store();
  const stream = h.stream('retry');
  const first = h.events(2, TYPE, 'a');
  const second = h.events(1, TYPE, 'b');
  const original = await store.append(stream, first, { expectedVersion: 'no_stream' });
  const later = await store.append(stream, second, { expectedVersion: 2 });
  await store.append(h.stream('other'), h.events(1, TYPE, 'o'));

  await expectReplayed(
    store,
    stream,
    () => store.append(stream, first, { expectedVersion: 'no_stream' }),
    original,
    "retrying the first batch with 'no_stream' after the stream moved on",
  );
  await expectReplayed(
    store,
    stream,
    () => store.append(stream, first, { expectedVersion: 0 }),
    original,
    'retrying the first batch with expectedVersion 0',
  );
  await expectReplayed(store, stream, () => store.append(stream, first), original, "retrying with 'any'");
  await expectReplayed(
    store,
    stream,
    () => store.append(stream, second, { expectedVersion: 2 }),
    later,
    'retrying the second batch with expectedVersion 2',
  );
  await expectReplayed(
    store,
    stream,
    () => store.append(stream, second, { expectedVersion: 'stream_exists' }),
    later,
    "retrying the second batch with 'stream_exists'",
  );
  expect((await readAllOf(store)).length, 'the log holds each event once').toBe(4);
}

async function differentVersions(h: StoreHarness): Promise<void> {
  const store = await h.store();
  const stream = h.stream('moved');
  await store.append(stream, h.events(2, TYPE, 'a'), { expectedVersion: 'no_stream' });
  const second = h.events(1, TYPE, 'b');
  await store.append(stream, second, { expectedVersion: 2 });
  // Version 3 is the stream's current version: the check alone would pass, the ids must not be written again.
  for (const expected of [3, 1]) {
    await expectConflict(
      store,
      stream,
      () => store.append(stream, second, { expectedVersion: expected }),
      expected,
      3,
      `the same ids again with expectedVersion ${expected} (originally appended at 2)`,
    );
  }
}

async function differentStream(h: StoreHarness): Promise<void> {
  const store = await h.store();
  const origin = h.stream('origin');
  const events = h.events(2, TYPE, 'a');
  await store.append(origin, events);
  const fresh = h.stream('fresh');
  await expectConflict(
    store,
    fresh,
    () => store.append(fresh, events),
    'any',
    0,
    'the same ids to a new stream',
  );
  expect(await store.streamVersion(fresh), 'the other stream was not created').toBe(0);
  const existing = h.stream('existing');
  await store.append(existing, h.events(1, TYPE, 'x'));
  await expectConflict(
    store,
    existing,
    () => store.append(existing, events),
    'any',
    1,
    'the same ids to another existing stream',
  );
}

async function partialBatch(h: StoreHarness): Promise<void> {
  const store = await h.store();
  const stream = h.stream('partial');
  const [a0, a1] = h.events(2, TYPE, 'a');
  const [c0] = h.events(1, TYPE, 'c');
  if (a0 === undefined || a1 === undefined || c0 === undefined) throw new Error('events were not built');
  await store.append(stream, [a0, a1]);
  const batches = [
    { events: [a0, a1, c0], what: 'the original batch plus a new event' },
    { events: [a1, c0], what: 'the last event of the original batch plus a new event' },
    { events: [c0, a0], what: 'a new event plus an appended one' },
  ];
  for (const { events, what } of batches) {
    await expectConflict(
      store,
      stream,
      () => store.append(stream, events),
      'any',
      2,
      `${what}: a batch partly appended`,
    );
  }
}

/**
 * Scenario: retrying an append of the same event ids (KurrentDB semantics).
 *
 * @example
 * ```ts
 * for (const test of idempotentAppendScenario.tests) it(test.title, () => test.run(harness));
 * ```
 */
export const idempotentAppendScenario: StoreScenario = {
  name: 'idempotent-append',
  tests: [
    {
      title: 'the same event ids at the same versions return the original result and write nothing',
      run: sameVersions,
    },
    {
      title: 'the same event ids at a different expected version conflict, even when that version is current',
      run: differentVersions,
    },
    { title: 'the same event ids to a different stream conflict', run: differentStream },
    { title: 'a batch partly appended already conflicts and writes nothing', run: partialBatch },
  ],
};

import type { EventStore, StoredEvent } from '../../../store/event-store';
import { expect } from '../../expect';
import { collectAll, expectIncreasingPositions, expectSameEvents, labelOf, readAllOf } from '../assertions';
import type { StoreHarness } from '../harness';
import type { StoreScenario } from '../scenario';

const TYPE = 'conformance.ordered';
const OWN_STREAMS = 4;
const SHARED_WRITERS = 4;
const BATCHES = 25;

/** One writer per own stream with exact expected versions, plus several writers racing on one shared stream. */
async function writeConcurrently(h: StoreHarness, store: EventStore): Promise<string[]> {
  const own = Array.from({ length: OWN_STREAMS }, (_, index) => h.stream(`own-${index}`));
  const shared = h.stream('shared');
  const ownWriters = own.map(async (stream, writer) => {
    let version = 0;
    for (let batch = 0; batch < BATCHES; batch++) {
      const events = h.events(1 + ((batch + writer) % 4), TYPE, `own${writer}.${batch}.`);
      version = (await store.append(stream, events, { expectedVersion: version })).streamVersion;
    }
  });
  const sharedWriters = Array.from({ length: SHARED_WRITERS }, async (_, writer) => {
    for (let batch = 0; batch < BATCHES; batch++) {
      await store.append(shared, h.events(1 + (batch % 3), TYPE, `shared${writer}.${batch}.`));
    }
  });
  await Promise.all([...ownWriters, ...sharedWriters]);
  return [...own, shared];
}

async function versionOrder(h: StoreHarness): Promise<void> {
  const store = await h.store();
  const streams = await writeConcurrently(h, store);
  const all = await readAllOf(store, { batchSize: 37 });
  expectIncreasingPositions(all, 'readAll() after concurrent writers');
  for (const stream of streams) {
    const inFeed = all.filter((event) => event.stream === stream);
    const versions = inFeed.map((event) => event.streamVersion);
    const outOfOrder = versions.findIndex((version, index) => version !== index + 1);
    expect(
      outOfOrder,
      `stream ${stream} in the global feed must have versions 1..${versions.length} in order; at index ${outOfOrder} found ${describeAt(inFeed, outOfOrder)}`,
    ).toBe(-1);
    expectSameEvents(
      inFeed,
      await collectAll(store.readStream(stream)),
      `stream ${stream}: the global feed and readStream() agree`,
    );
  }
  const total = all.length;
  const perStream = await Promise.all(streams.map((stream) => store.streamVersion(stream)));
  expect(
    perStream.reduce((sum, version) => sum + version, 0),
    'the stream versions add up to the global log',
  ).toBe(total);
}

function describeAt(events: ReadonlyArray<StoredEvent>, index: number): string {
  const event = events[index];
  return event === undefined ? 'nothing' : `${labelOf(event)} with version ${event.streamVersion}`;
}

/**
 * Scenario: per-stream order in the global feed equals stream-version order, also under concurrent writers.
 *
 * @example
 * ```ts
 * for (const test of streamOrderScenario.tests) it(test.title, () => test.run(harness));
 * ```
 */
export const streamOrderScenario: StoreScenario = {
  name: 'stream-order',
  tests: [
    {
      title: `with ${OWN_STREAMS} single-writer streams and ${SHARED_WRITERS} writers racing on one stream, each stream's events in readAll have versions 1..n in order`,
      run: versionOrder,
    },
  ],
};

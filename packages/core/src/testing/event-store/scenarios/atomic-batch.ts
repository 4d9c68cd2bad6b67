import type { Envelope } from '../../../events/envelope';
import { expect } from '../../expect';
import { collectAll, expectIncreasingPositions, expectSameEvents, readAllOf } from '../assertions';
import type { StoreHarness } from '../harness';
import type { StoreScenario } from '../scenario';

const TYPE = 'conformance.batched';

const ENVELOPE_FIELDS = [
  'id',
  'type',
  'version',
  'time',
  'source',
  'subject',
  'key',
  'correlationId',
  'causationId',
  'traceparent',
  'metadata',
  'data',
] as const;

function envelopeOf(event: Envelope): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of ENVELOPE_FIELDS) if (event[field] !== undefined) out[field] = event[field];
  return out;
}

async function consecutiveVersions(h: StoreHarness): Promise<void> {
  const store = await h.store();
  const stream = h.stream('batch');
  const first = h.events(10, TYPE, 'a').map((event, index) => ({
    ...event,
    subject: 'task-1',
    key: 'task-1',
    correlationId: 'corr-1',
    ...(index > 0 ? { causationId: 'cause-1' } : {}),
  }));
  const result = await store.append(stream, first, { expectedVersion: 'no_stream' });
  expect(result.stream).toBe(stream);
  expect(result.streamVersion, 'a batch of 10 on a new stream ends at version 10').toBe(10);
  expect(
    result.events.map((event) => [event.id, event.stream, event.streamVersion]),
    'the result lists the batch with consecutive versions 1..10',
  ).toEqual(first.map((event, index) => [event.id, stream, index + 1]));
  expect(result.firstPosition).toBe(result.events[0]?.position);
  expect(result.lastPosition).toBe(result.events[9]?.position);
  expectIncreasingPositions(result.events, 'positions of one batch');

  const second = await store.append(stream, h.events(5, TYPE, 'b'), { expectedVersion: 10 });
  expect(
    second.events.map((event) => event.streamVersion),
    'the next batch continues at 11',
  ).toEqual([11, 12, 13, 14, 15]);
  expectIncreasingPositions([...result.events, ...second.events], 'positions across two batches');

  const read = await collectAll(store.readStream(stream));
  expectSameEvents(read, [...result.events, ...second.events], 'readStream() after two batches');
  expect(
    read.slice(0, 10).map(envelopeOf),
    'stored envelopes come back exactly as appended (ids, times, metadata, nested unicode data)',
  ).toEqual(first.map(envelopeOf));
}

/** Concurrent batches to one stream never interleave: each gets a consecutive run of versions. */
async function concurrentBatches(h: StoreHarness): Promise<void> {
  const store = await h.store();
  const stream = h.stream('shared');
  const batches = Array.from({ length: 10 }, (_, batch) => h.events(5, TYPE, `b${batch}-`));
  const results = await Promise.all(batches.map((events) => store.append(stream, events)));
  const stored = await collectAll(store.readStream(stream));
  expect(
    stored.map((event) => event.streamVersion),
    '50 events with versions 1..50',
  ).toEqual(Array.from({ length: 50 }, (_, index) => index + 1));
  for (const [batch, result] of results.entries()) {
    const versions = result.events.map((event) => event.streamVersion);
    const start = versions[0] ?? 0;
    expect(versions, `batch ${batch} got consecutive versions`).toEqual(
      [0, 1, 2, 3, 4].map((i) => start + i),
    );
    expect(
      result.events.map((event) => event.id),
      `batch ${batch} was stored in the order given`,
    ).toEqual(batches[batch]?.map((event) => event.id));
    const inStream = stored.slice(start - 1, start + 4);
    expectSameEvents(inStream, result.events, `batch ${batch} in readStream()`);
  }
  const all = await readAllOf(store);
  expectIncreasingPositions(all, 'readAll() after concurrent batches');
  expectSameEvents(all, stored, 'the global log of a one-stream store, in stream-version order');
}

/**
 * Scenario: a batch is appended atomically, with consecutive versions and increasing positions.
 *
 * @example
 * ```ts
 * for (const test of atomicBatchScenario.tests) it(test.title, () => test.run(harness));
 * ```
 */
export const atomicBatchScenario: StoreScenario = {
  name: 'atomic-batch',
  tests: [
    {
      title:
        'a batch gets consecutive stream versions and increasing positions; readStream returns exactly it',
      run: consecutiveVersions,
    },
    {
      title: 'concurrent batches to one stream each get a consecutive run of versions, in the order given',
      run: concurrentBatches,
    },
  ],
};

import { expect } from '../../expect';
import { collectAll, expectSameEvents, readAllOf } from '../assertions';
import type { StoreHarness } from '../harness';
import type { StoreScenario } from '../scenario';

const TYPE = 'conformance.bulk';
const EVENTS = 10_000;
const APPEND_BATCH = 100;
const READ_BATCH = 500;

async function largeStream(h: StoreHarness): Promise<void> {
  const store = await h.store();
  const stream = h.stream('large');
  const results = await h.appendInBatches(stream, h.events(EVENTS, TYPE, 'e'), APPEND_BATCH);
  const appended = results.flatMap((result) => result.events);
  expect(await store.streamVersion(stream)).toBe(EVENTS);
  const read = await collectAll(store.readStream(stream, { batchSize: READ_BATCH }));
  expect(read.length, `readStream() count`).toBe(EVENTS);
  expect(
    read.findIndex((event, index) => event.streamVersion !== index + 1),
    'versions run 1..10,000 without a gap',
  ).toBe(-1);
  expectSameEvents(read, appended, `readStream({ batchSize: ${READ_BATCH} })`);
  expectSameEvents(
    await readAllOf(store, { batchSize: READ_BATCH }),
    appended,
    `readAll({ batchSize: ${READ_BATCH} })`,
  );
}

/**
 * Scenario: a large stream written and read in batches.
 *
 * @example
 * ```ts
 * for (const test of largeStreamScenario.tests) it(test.title, () => test.run(harness));
 * ```
 */
export const largeStreamScenario: StoreScenario = {
  name: 'large-stream',
  tests: [
    {
      title: `${EVENTS.toLocaleString('en')} events in one stream, appended ${APPEND_BATCH} at a time, read back with batchSize ${READ_BATCH}: exact count and order`,
      run: largeStream,
    },
  ],
};

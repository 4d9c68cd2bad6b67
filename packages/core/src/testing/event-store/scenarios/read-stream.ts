import type { AppendResult, StoredEvent } from '../../../store/event-store';
import { expect } from '../../expect';
import { collectAll, expectError, expectSameEvents, firstIterationRejection } from '../assertions';
import type { StoreHarness } from '../harness';
import type { StoreScenario } from '../scenario';

const TYPE = 'conformance.read';

function storedOf(results: ReadonlyArray<AppendResult>): StoredEvent[] {
  return results.flatMap((result) => result.events);
}

async function smallBatches(h: StoreHarness): Promise<void> {
  const store = await h.store();
  const stream = h.stream('thousand');
  const appended = storedOf(await h.appendInBatches(stream, h.events(1_000, TYPE, 'e'), 100));
  expectSameEvents(
    await collectAll(store.readStream(stream, { batchSize: 64 })),
    appended,
    'readStream() of 1,000 events with batchSize 64',
  );
  expectSameEvents(
    await collectAll(store.readStream(stream, { fromVersion: 500, batchSize: 64 })),
    appended.slice(499),
    'readStream({ fromVersion: 500, batchSize: 64 })',
  );
}

async function fromVersion(h: StoreHarness): Promise<void> {
  const store = await h.store();
  const stream = h.stream('ten');
  const appended = storedOf(await h.appendInBatches(stream, h.events(10, TYPE, 'e'), 4));
  await store.append(h.stream('ten-other'), h.events(3, TYPE, 'x'));
  for (const version of [1, 4, 10, 11, 50]) {
    expectSameEvents(
      await collectAll(store.readStream(stream, { fromVersion: version })),
      appended.slice(version - 1),
      `readStream({ fromVersion: ${version} }) of a 10-event stream (inclusive; empty past the end)`,
    );
  }
}

async function onlyItsStream(h: StoreHarness): Promise<void> {
  const store = await h.store();
  // Names that share a prefix catch stores that match streams with LIKE or by prefix.
  const names = ['task-1', 'task-10', 'task-1-copy', 'task'];
  const appended = new Map<string, StoredEvent[]>();
  for (let round = 0; round < 3; round++) {
    for (const name of names) {
      const result = await store.append(h.stream(name), h.events(2, TYPE, `${name}.${round}.`));
      appended.set(name, [...(appended.get(name) ?? []), ...result.events]);
    }
  }
  for (const name of names) {
    expectSameEvents(
      await collectAll(store.readStream(h.stream(name), { batchSize: 3 })),
      appended.get(name) ?? [],
      `readStream("${name}") returns only its own events`,
    );
  }
}

async function unknownStream(h: StoreHarness): Promise<void> {
  const store = await h.store();
  await store.append(h.stream('known'), h.events(1, TYPE));
  const missing = h.stream('missing');
  const error = await firstIterationRejection(() => store.readStream(missing), `readStream("${missing}")`);
  expectError(
    error,
    { name: 'StreamNotFoundError', code: 'STREAM_NOT_FOUND', stream: missing },
    'reading a stream that has no events',
  );
  expect(await store.streamVersion(missing), 'reading did not create the stream').toBe(0);
}

/**
 * Scenario: reading one stream in version order.
 *
 * @example
 * ```ts
 * for (const test of readStreamScenario.tests) it(test.title, () => test.run(harness));
 * ```
 */
export const readStreamScenario: StoreScenario = {
  name: 'read-stream',
  tests: [
    { title: '1,000 events read with batchSize 64 come back complete and in order', run: smallBatches },
    { title: 'fromVersion is inclusive, and past the end reads nothing', run: fromVersion },
    {
      title: 'a stream returns only its own events, even next to streams with similar names',
      run: onlyItsStream,
    },
    {
      title: 'a stream with no events fails on first iteration with StreamNotFoundError naming it',
      run: unknownStream,
    },
  ],
};

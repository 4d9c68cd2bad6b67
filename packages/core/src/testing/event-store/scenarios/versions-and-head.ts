import { expect } from '../../expect';
import { readAllOf } from '../assertions';
import type { StoreHarness } from '../harness';
import type { StoreScenario } from '../scenario';

const TYPE = 'conformance.counted';

async function versionsAndHead(h: StoreHarness): Promise<void> {
  const store = await h.store();
  const a = h.stream('a');
  const b = h.stream('b');
  expect(await store.headPosition(), 'headPosition() of an empty store').toBeUndefined();
  expect(await store.streamVersion(a), 'streamVersion() of a stream with no events').toBe(0);

  const first = await store.append(a, h.events(3, TYPE));
  expect(await store.streamVersion(a)).toBe(3);
  expect(await store.headPosition(), 'head after the first append').toBe(first.lastPosition);

  const second = await store.append(b, h.events(2, TYPE));
  expect(await store.streamVersion(b)).toBe(2);
  expect(await store.streamVersion(a), 'appending to b leaves a unchanged').toBe(3);
  expect(await store.headPosition(), 'head after appending to another stream').toBe(second.lastPosition);

  const third = await store.append(a, h.events(1, TYPE), { expectedVersion: 3 });
  expect(await store.streamVersion(a)).toBe(4);
  const head = await store.headPosition();
  expect(head, 'head is the last appended position').toBe(third.lastPosition);
  const all = await readAllOf(store);
  expect(all[all.length - 1]?.position, 'head is the position of the last event readAll() returns').toBe(
    head,
  );
  expect(await store.streamVersion(h.stream('never')), 'other streams are still at 0').toBe(0);
}

/**
 * Scenario: `streamVersion()` and `headPosition()` before and after appends.
 *
 * @example
 * ```ts
 * for (const test of versionsAndHeadScenario.tests) it(test.title, () => test.run(harness));
 * ```
 */
export const versionsAndHeadScenario: StoreScenario = {
  name: 'versions-and-head',
  tests: [
    {
      title: 'streamVersion() is 0 and headPosition() undefined when empty, then follow every append',
      run: versionsAndHead,
    },
  ],
};

import type { StoredEvent } from '../../../store/event-store';
import { expect } from '../../expect';
import { expectIncreasingPositions, expectSameEvents, readAllOf } from '../assertions';
import type { StoreHarness } from '../harness';
import type { StoreScenario } from '../scenario';

const TYPES = ['conformance.created', 'conformance.updated', 'conformance.closed'] as const;
const STREAMS = 5;
const ROUNDS = 20;

/** Appends to 5 streams round-robin, 1 to 3 events at a time with types cycling, and returns the log as written. */
async function interleaved(h: StoreHarness): Promise<StoredEvent[]> {
  const store = await h.store();
  const appended: StoredEvent[] = [];
  let counter = 0;
  for (let round = 0; round < ROUNDS; round++) {
    for (let index = 0; index < STREAMS; index++) {
      const size = 1 + ((round + index) % 3);
      const events = Array.from({ length: size }, () => {
        const type = TYPES[counter % TYPES.length] ?? TYPES[0];
        return h.event(type, { label: `s${index}.${counter++}` });
      });
      const result = await store.append(h.stream(`s${index}`), events);
      appended.push(...result.events);
    }
  }
  return appended;
}

async function globalOrder(h: StoreHarness): Promise<void> {
  const store = await h.store();
  const appended = await interleaved(h);
  const all = await readAllOf(store);
  expectSameEvents(all, appended, 'readAll() after interleaved appends to 5 streams');
  expectIncreasingPositions(all, 'readAll()');
  expectSameEvents(await readAllOf(store, { batchSize: 7 }), appended, 'readAll({ batchSize: 7 })');
}

async function fromIsExclusive(h: StoreHarness): Promise<void> {
  const store = await h.store();
  const appended = await interleaved(h);
  for (const cut of [0, 1, 37, appended.length - 2, appended.length - 1]) {
    const from = appended[cut]?.position;
    if (from === undefined) throw new Error(`no event at ${cut}`);
    expectSameEvents(
      await readAllOf(store, { from, batchSize: 16 }),
      appended.slice(cut + 1),
      `readAll({ from: position of event ${cut} }) starts after it`,
    );
    const page = await store.readPage({ from, limit: 3 });
    expectSameEvents(
      page.events,
      appended.slice(cut + 1, cut + 4),
      `readPage({ from: event ${cut}, limit: 3 })`,
    );
  }
}

async function filteredByType(h: StoreHarness): Promise<void> {
  const store = await h.store();
  const appended = await interleaved(h);
  const filters: ReadonlyArray<ReadonlyArray<string>> = [
    [TYPES[1]],
    [TYPES[0], TYPES[2]],
    ['conformance.never'],
  ];
  for (const types of filters) {
    const expected = appended.filter((event) => types.includes(event.type));
    for (const batchSize of [500, 4]) {
      expectSameEvents(
        await readAllOf(store, { types, batchSize }),
        expected,
        `readAll({ types: ${JSON.stringify(types)}, batchSize: ${batchSize} })`,
      );
    }
  }
  const from = appended[40]?.position;
  expectSameEvents(
    await readAllOf(store, { types: [TYPES[1]], ...(from === undefined ? {} : { from }), batchSize: 2 }),
    appended.slice(41).filter((event) => event.type === TYPES[1]),
    'readAll() filtered by type from a position',
  );
}

async function pages(h: StoreHarness): Promise<void> {
  const store = await h.store();
  const empty = await store.readPage({ limit: 10 });
  expect({ events: empty.events.length, next: empty.next }, 'readPage() of an empty store').toEqual({
    events: 0,
    next: undefined,
  });
  const appended = await interleaved(h);
  const first = await store.readPage({ limit: 3 });
  expectSameEvents(first.events, appended.slice(0, 3), 'readPage({ limit: 3 })');
  expect(first.next, 'next of an unfiltered page is its last position').toBe(appended[2]?.position);
  const head = await store.headPosition();
  const atHead = await store.readPage({ limit: 10, ...(head === undefined ? {} : { from: head }) });
  expect(
    { events: atHead.events.length, next: atHead.next },
    'readPage({ from: head }): nothing read, so no next',
  ).toEqual({ events: 0, next: undefined });
}

/**
 * Scenario: the global log across streams, `from`, type filters and pages.
 *
 * @example
 * ```ts
 * for (const test of readAllScenario.tests) it(test.title, () => test.run(harness));
 * ```
 */
export const readAllScenario: StoreScenario = {
  name: 'read-all',
  tests: [
    {
      title:
        'readAll returns interleaved appends to 5 streams in global order, positions increasing as strings',
      run: globalOrder,
    },
    { title: '`from` is exclusive, in readAll and readPage', run: fromIsExclusive },
    {
      title: 'a type filter returns exactly the events of those types, in order, at any batch size',
      run: filteredByType,
    },
    { title: 'readPage honours limit; an empty page has no `next`', run: pages },
  ],
};

import type { EventStore, StoredEvent } from '../../../store/event-store';
import { expect } from '../../expect';
import { expectSameEvents, labelOf, readAllOf } from '../assertions';
import type { StoreHarness } from '../harness';
import type { StoreScenario } from '../scenario';

const COMMON = 'conformance.common';
const RARE = 'conformance.rare';
const TOTAL = 500;
/** One event in 50 is rare, the first at index 7, so the log starts and ends with runs of common events. */
const isRare = (index: number): boolean => index % 50 === 7;

async function appendMostlyCommon(h: StoreHarness): Promise<StoredEvent[]> {
  const events = Array.from({ length: TOTAL }, (_, index) =>
    h.event(isRare(index) ? RARE : COMMON, { label: `${isRare(index) ? 'rare' : 'common'}${index}` }),
  );
  const results = await h.appendInBatches(h.stream('mixed'), events, 25);
  return results.flatMap((result) => result.events);
}

interface PagedRead {
  readonly events: StoredEvent[];
  /** The `from` the reader ended with. */
  readonly last: string | undefined;
  readonly pages: number;
}

/** Reads like `readAll` does: page after page until a page brings no `next` or no progress. */
async function readPages(store: EventStore, types: ReadonlyArray<string>, limit: number): Promise<PagedRead> {
  const events: StoredEvent[] = [];
  let from: string | undefined;
  let pages = 0;
  for (; pages < 10_000; pages++) {
    const page = await store.readPage({ types, limit, ...(from === undefined ? {} : { from }) });
    if (page.events.length > limit)
      throw new Error(`readPage returned ${page.events.length} events for limit ${limit}`);
    for (const event of page.events) {
      if (from !== undefined && !(event.position > from)) {
        throw new Error(
          `readPage({ from: ${from} }) returned ${labelOf(event)} at ${event.position}, not after from`,
        );
      }
    }
    const lastReturned = page.events[page.events.length - 1]?.position;
    if (lastReturned !== undefined && (page.next === undefined || page.next < lastReturned)) {
      throw new Error(`a page ending at ${lastReturned} has next ${String(page.next)}: it must not go back`);
    }
    events.push(...page.events);
    if (page.next === undefined || page.next === from) return { events, last: from, pages: pages + 1 };
    if (from !== undefined && page.next < from) throw new Error(`next ${page.next} went back before ${from}`);
    from = page.next;
  }
  throw new Error('paging did not end after 10,000 pages');
}

async function rareFilter(h: StoreHarness): Promise<void> {
  const store = await h.store();
  const appended = await appendMostlyCommon(h);
  const rare = appended.filter((event) => event.type === RARE);
  expect(rare.length).toBe(10);
  const head = await store.headPosition();
  for (const limit of [1, 3, 4]) {
    const read = await readPages(store, [RARE], limit);
    expectSameEvents(read.events, rare, `readPage({ types: [rare], limit: ${limit} }) page after page`);
    // A reader that stays at the last match would find events "after" it forever: catch-up subscriptions would
    // spin. Pages must report how far they scanned, up to the head once nothing further matches.
    expect(
      read.last,
      `after paging with limit ${limit}, next has advanced past the trailing skipped events to the head`,
    ).toBe(head);
  }
  expectSameEvents(
    await readAllOf(store, { types: [RARE], batchSize: 3 }),
    rare,
    'readAll({ types: [rare], batchSize: 3 })',
  );
}

async function noMatch(h: StoreHarness): Promise<void> {
  const store = await h.store();
  await appendMostlyCommon(h);
  const head = await store.headPosition();
  const read = await readPages(store, ['conformance.never'], 5);
  expect(read.events.length, 'a filter that matches nothing returns nothing').toBe(0);
  expect(read.last, 'paging a filter that matches nothing still advances next to the head').toBe(head);
  const again = await store.readPage({
    types: ['conformance.never'],
    limit: 5,
    ...(head === undefined ? {} : { from: head }),
  });
  expect(
    { events: again.events.length, next: again.next },
    'a filtered page at the head reads nothing',
  ).toEqual({
    events: 0,
    next: undefined,
  });
}

/**
 * Scenario: paging with a type filter skips no match and moves past the events it filtered out.
 *
 * @example
 * ```ts
 * for (const test of filteredPagingScenario.tests) it(test.title, () => test.run(harness));
 * ```
 */
export const filteredPagingScenario: StoreScenario = {
  name: 'filtered-paging',
  tests: [
    {
      title: `a filter matching 1 in 50 of ${TOTAL} events, paged with limits 1, 3 and 4: every match once, in order, next ending at the head`,
      run: rareFilter,
    },
    { title: 'a filter matching nothing reads nothing and still advances to the head', run: noMatch },
  ],
};

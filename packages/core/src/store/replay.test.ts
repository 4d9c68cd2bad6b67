import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineEvent } from '../events/define-event';
import type { EventStore, StoredEvent } from './event-store';
import { memoryEventStore } from './memory-event-store';
import { readAllPages } from './read-helpers';
import { replay } from './replay';

const Counted = defineEvent('counted', z.object({ n: z.number() }));
const Other = defineEvent('other', z.object({ n: z.number() }));

async function seed(count: number) {
  const store = memoryEventStore();
  for (let i = 0; i < count; i += 100) {
    const batch = Array.from({ length: Math.min(100, count - i) }, (_, j) =>
      (i + j) % 10 === 0 ? Other.create({ n: i + j }) : Counted.create({ n: i + j }),
    );
    await store.append(`s-${i % 7}`, batch);
  }
  return store;
}

describe('replay', () => {
  it('hands every event over in global order and reports progress', async () => {
    const store = await seed(2_500);
    const seen: number[] = [];
    const reports: boolean[] = [];
    const result = await replay(store, {
      batchSize: 128,
      handle: (event) => void seen.push((event.data as { n: number }).n),
      onProgress: (progress) => reports.push(progress.done),
      progressIntervalMs: 0,
    });
    expect(seen).toEqual(Array.from({ length: 2_500 }, (_, i) => i));
    expect(result).toMatchObject({ events: 2_500, done: true, position: await store.headPosition() });
    expect(reports.at(-1)).toBe(true);
    expect(reports.length).toBeGreaterThan(2);
  });

  it('filters by type, starts after `from`, stops at `to`, and awaits async handlers', async () => {
    const store = await seed(1_000);
    const all: StoredEvent[] = [];
    for await (const event of store.readAll()) all.push(event);
    const from = all[99]?.position;
    const to = all[499]?.position;
    const seen: number[] = [];
    await replay(store, {
      ...(from === undefined ? {} : { from }),
      ...(to === undefined ? {} : { to }),
      types: ['other'],
      handle: async (event) => {
        await Promise.resolve();
        seen.push((event.data as { n: number }).n);
      },
    });
    expect(seen).toEqual(Array.from({ length: 40 }, (_, i) => 100 + i * 10));
  });

  it('stops at the head that existed when it started, and on abort', async () => {
    const store = await seed(300);
    let count = 0;
    const result = await replay(store, {
      handle: async () => {
        count += 1;
        if (count === 1) await store.append('late', [Counted.create({ n: -1 })]);
      },
    });
    expect(result.events).toBe(300);
    const controller = new AbortController();
    const aborted = replay(store, {
      batchSize: 10,
      signal: controller.signal,
      handle: () => controller.abort(new Error('stop')),
    });
    await expect(aborted).rejects.toThrow('stop');
  });

  it('returns at once for an empty store and refuses a missing handler', async () => {
    const store = memoryEventStore();
    expect(await replay(store, { handle: () => {} })).toMatchObject({ events: 0, done: true });
    await expect(replay(store, {} as never)).rejects.toThrow(/handle/);
  });

  it('reads the next page while the handler works on this one, and a failed read-ahead never goes unhandled', async () => {
    const store = await seed(300);
    let reads = 0;
    let readsWhenHandling = 0;
    const slow: EventStore = {
      ...store,
      readPage: async (options) => {
        reads += 1;
        if (reads === 2) throw new Error('connection lost');
        return store.readPage(options);
      },
    };
    const failing = replay(slow, {
      batchSize: 100,
      handle: async () => {
        readsWhenHandling = reads;
        await new Promise((resolve) => setTimeout(resolve, 1));
        if (readsWhenHandling === 2) throw new Error('handler failed');
      },
    });
    // The handler's error wins; the read-ahead that failed meanwhile is not an unhandled rejection.
    await expect(failing).rejects.toThrow('handler failed');
    expect(readsWhenHandling).toBe(2);
    reads = 0;
    const pages = readAllPages(slow, { batchSize: 100 });
    const first = await pages.next();
    expect(first.done).toBe(false);
    expect(reads).toBe(2);
    // Stopping early drops the failed read-ahead quietly.
    await new Promise((resolve) => setTimeout(resolve, 5));
    await pages.return(undefined);
  });
});

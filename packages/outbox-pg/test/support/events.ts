import type { Envelope, StoredEvent } from '@relaybus/core';
import { uuidv7 } from '@relaybus/core';

/**
 * A plain envelope for store tests, with a fresh UUIDv7 id and `data.label` for readable assertions.
 *
 * @example
 * ```ts
 * await store.append('task-1', [envelope('task.created', 'a1')]);
 * ```
 */
export function envelope(type: string, label: string, extra: Partial<Envelope> = {}): Envelope {
  return {
    id: uuidv7(),
    type,
    version: 1,
    time: new Date().toISOString(),
    source: 'outbox-pg/test',
    metadata: {},
    data: { label },
    ...extra,
  };
}

/**
 * The labels of stored events, in order.
 *
 * @example
 * ```ts
 * expect(labels(await readAll(store))).toEqual(['a1', 'b1']);
 * ```
 */
export function labels(events: ReadonlyArray<StoredEvent>): string[] {
  return events.map((event) => String((event.data as { label?: unknown }).label));
}

/**
 * Drains an async iterable into an array.
 *
 * @example
 * ```ts
 * const all = await collect(store.readAll());
 * ```
 */
export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

/**
 * Reads until `done` holds for the result (or `timeoutMs` passes) and returns the last result. Reads of the global
 * feed stop below the oldest in-flight transaction in the whole cluster, so a test on a shared server waits for
 * what it expects instead of asserting the first read.
 *
 * @example
 * ```ts
 * const all = await readUntil(() => collect(store.readAll()), (events) => events.length >= 4);
 * ```
 */
export async function readUntil<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 5_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

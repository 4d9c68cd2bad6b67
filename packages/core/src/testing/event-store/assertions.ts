import type { RelaybusErrorCode } from '../../errors';
import type { EventStore, ExpectedVersion, ReadAllOptions, StoredEvent } from '../../store/event-store';
import { expect } from '../expect';

/**
 * The identifying fields of an expected error: its class name, its code and any fields it must carry. Errors are
 * compared by these, not by `instanceof`, so a store bundled with its own copy of `@relaybus/core` still passes.
 *
 * @example
 * ```ts
 * const shape: ErrorShape = { name: 'StreamNotFoundError', code: 'STREAM_NOT_FOUND', stream: 'task-1' };
 * ```
 */
export interface ErrorShape {
  readonly name: string;
  readonly code: RelaybusErrorCode;
  readonly [field: string]: unknown;
}

/**
 * Runs `run` and returns its rejection reason. Fails when it throws synchronously (every contract method returns a
 * promise) or resolves.
 *
 * @example
 * ```ts
 * const error = await rejectionOf(() => store.append('', events), 'append to ""');
 * ```
 */
export async function rejectionOf(run: () => Promise<unknown>, what: string): Promise<unknown> {
  let promise: Promise<unknown>;
  try {
    promise = run();
  } catch (error) {
    throw new Error(
      `${what}: threw synchronously (${describeError(error)}); it must return a rejected promise`,
    );
  }
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error(`${what}: resolved; it must reject`);
}

/**
 * Opens an async iterable and returns the rejection of its first `next()`. Fails when opening throws (errors of
 * reads surface on first iteration) or when the first `next()` resolves.
 *
 * @example
 * ```ts
 * const error = await firstIterationRejection(() => store.readStream('missing'), 'readStream("missing")');
 * ```
 */
export async function firstIterationRejection(
  open: () => AsyncIterable<unknown>,
  what: string,
): Promise<unknown> {
  let iterator: AsyncIterator<unknown>;
  try {
    iterator = open()[Symbol.asyncIterator]();
  } catch (error) {
    throw new Error(`${what}: threw when called (${describeError(error)}); it must fail on first iteration`);
  }
  return rejectionOf(() => iterator.next(), `${what}, first iteration`);
}

/**
 * Asserts that `error` has the name, code and fields of `expected`.
 *
 * @example
 * ```ts
 * expectError(error, { name: 'InvalidOptionError', code: 'INVALID_OPTION', option: 'events' }, 'empty batch');
 * ```
 */
export function expectError(error: unknown, expected: ErrorShape, what: string): void {
  const actual: Record<string, unknown> = {};
  for (const field of Object.keys(expected)) {
    actual[field] = typeof error === 'object' && error !== null ? Reflect.get(error, field) : undefined;
  }
  expect(actual, `${what}: must fail with ${expected.name} (got ${describeError(error)})`).toEqual({
    ...expected,
  });
}

/**
 * Asserts that `run` rejects with `VersionConflictError` carrying `stream`, `expected` and `actual` exactly, and
 * that the store is unchanged afterwards (stream version, head and global log).
 *
 * @example
 * ```ts
 * await expectConflict(store, stream, () => store.append(stream, events, { expectedVersion: 2 }), 2, 3, 'stale');
 * ```
 */
export async function expectConflict(
  store: EventStore,
  stream: string,
  run: () => Promise<unknown>,
  expected: ExpectedVersion,
  actual: number,
  what: string,
): Promise<void> {
  const before = await snapshotOf(store, stream);
  const error = await rejectionOf(run, what);
  expectError(
    error,
    { name: 'VersionConflictError', code: 'VERSION_CONFLICT', stream, expected, actual },
    what,
  );
  expect(await snapshotOf(store, stream), `${what}: a failed append must write nothing`).toEqual(before);
}

/**
 * What a failed append must leave unchanged: the stream's version, the head and the whole global log.
 *
 * @example
 * ```ts
 * const before = await snapshotOf(store, stream);
 * ```
 */
export async function snapshotOf(
  store: EventStore,
  stream: string,
): Promise<{ streamVersion: number; head: string | undefined; log: string[] }> {
  const log = (await readAllOf(store)).map(keyOf);
  return { streamVersion: await store.streamVersion(stream), head: await store.headPosition(), log };
}

/**
 * Reads the whole global log (or the part `options` selects) into an array.
 *
 * @example
 * ```ts
 * const all = await readAllOf(store, { types: ['conformance.created'] });
 * ```
 */
export async function readAllOf(store: EventStore, options: ReadAllOptions = {}): Promise<StoredEvent[]> {
  return collectAll(store.readAll(options));
}

/**
 * Drains an async iterable of events into an array.
 *
 * @example
 * ```ts
 * const events = await collectAll(store.readStream(stream, { batchSize: 64 }));
 * ```
 */
export async function collectAll(iterable: AsyncIterable<StoredEvent>): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  for await (const event of iterable) events.push(event);
  return events;
}

/**
 * The readable label a harness-built event carries in `data.label` (its id otherwise).
 *
 * @example
 * ```ts
 * const labels = events.map(labelOf);
 * ```
 */
export function labelOf(event: { readonly id: string; readonly data: unknown }): string {
  const label =
    typeof event.data === 'object' && event.data !== null ? Reflect.get(event.data, 'label') : undefined;
  return typeof label === 'string' ? label : event.id;
}

/**
 * Identity of a stored event for sequence comparisons: label, id, stream, version and position.
 *
 * @example
 * ```ts
 * expect(read.map(keyOf)).toEqual(appended.map(keyOf));
 * ```
 */
export function keyOf(event: StoredEvent): string {
  return `${labelOf(event)} ${event.id} ${event.stream}#${event.streamVersion} @${event.position}`;
}

/**
 * Asserts that `actual` is exactly `expected` (same events, same order, each with the same id, stream, version and
 * position), reporting the first difference, duplicates and missing events when not.
 *
 * @example
 * ```ts
 * expectSameEvents(await readAllOf(store), appended, 'readAll()');
 * ```
 */
export function expectSameEvents(
  actual: ReadonlyArray<StoredEvent>,
  expected: ReadonlyArray<StoredEvent>,
  what: string,
): void {
  const actualKeys = actual.map(keyOf);
  const expectedKeys = expected.map(keyOf);
  let index = 0;
  while (index < actualKeys.length && actualKeys[index] === expectedKeys[index]) index++;
  if (index === actualKeys.length && index === expectedKeys.length) return;
  const seen = new Map<string, number>();
  for (const event of actual) seen.set(event.id, (seen.get(event.id) ?? 0) + 1);
  const wanted = new Set(expected.map((event) => event.id));
  const duplicates = [...seen].filter(([, count]) => count > 1).map(([id]) => id);
  const missing = expected.filter((event) => !seen.has(event.id)).map(labelOf);
  const unexpected = actual.filter((event) => !wanted.has(event.id)).map(labelOf);
  expect(
    {
      length: actualKeys.length,
      firstDifference: { index, actual: actualKeys[index], expected: expectedKeys[index] },
      duplicates: clip(duplicates),
      missing: clip(missing),
      unexpected: clip(unexpected),
    },
    `${what}: must be exactly the expected ${expectedKeys.length} events in order`,
  ).toEqual({
    length: expectedKeys.length,
    firstDifference: { index, actual: expectedKeys[index], expected: expectedKeys[index] },
    duplicates: [],
    missing: [],
    unexpected: [],
  });
}

/**
 * Asserts that positions are strings that strictly increase under plain string comparison.
 *
 * @example
 * ```ts
 * expectIncreasingPositions(await readAllOf(store), 'readAll()');
 * ```
 */
export function expectIncreasingPositions(events: ReadonlyArray<StoredEvent>, what: string): void {
  let previous: string | undefined;
  for (const [index, event] of events.entries()) {
    if (typeof event.position !== 'string' || event.position === '') {
      throw new Error(`${what}: event ${index} (${labelOf(event)}) has position ${String(event.position)}`);
    }
    if (previous !== undefined && !(previous < event.position)) {
      throw new Error(
        `${what}: positions must strictly increase as strings, but event ${index} (${labelOf(event)}) has ${JSON.stringify(event.position)} after ${JSON.stringify(previous)}`,
      );
    }
    previous = event.position;
  }
}

/**
 * Describes a thrown value for failure messages.
 *
 * @example
 * ```ts
 * throw new Error(`unexpected: ${describeError(error)}`);
 * ```
 */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = Reflect.get(error, 'code');
    return `${error.name}${typeof code === 'string' ? ` "${code}"` : ''}: ${error.message}`;
  }
  return String(error);
}

function clip(items: string[]): string[] {
  return items.length > 10 ? [...items.slice(0, 10), `... and ${items.length - 10} more`] : items;
}

/**
 * The state of a promise, readable without awaiting it.
 *
 * @example
 * ```ts
 * const state = track(store.waitForEvents(head));
 * ```
 */
export interface Tracked {
  readonly state: () => 'pending' | 'resolved' | 'rejected';
}

/**
 * Watches a promise so a test can check whether it settled yet.
 *
 * @example
 * ```ts
 * const waiting = track(store.waitForEvents(head));
 * expect(waiting.state()).toBe('pending');
 * ```
 */
export function track(promise: Promise<unknown>): Tracked {
  let state: 'pending' | 'resolved' | 'rejected' = 'pending';
  promise.then(
    () => {
      state = 'resolved';
    },
    () => {
      state = 'rejected';
    },
  );
  return { state: () => state };
}

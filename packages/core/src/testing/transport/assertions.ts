import { RelaybusError, type RelaybusErrorCode } from '../../errors';
import type { TransportMessage } from '../../transport/transport';
import { expect } from '../expect';

/** Timers may fire a few milliseconds early by the wall clock; a delay is a lower bound up to this slack. */
export const CLOCK_SLACK_MS = 10;

/**
 * The body as the publisher gave it. The contract lets a network transport hand over the serialised form (JSON
 * text or bytes), so both are decoded before comparing.
 */
export function decodeBody(body: unknown): unknown {
  if (typeof body === 'string') return JSON.parse(body);
  if (body instanceof Uint8Array) return JSON.parse(new TextDecoder().decode(body));
  return body;
}

/** Asserts that a received message carries the published id, topic, key and body. */
export function expectSameMessage(actual: TransportMessage, expected: TransportMessage, where: string): void {
  expect(
    { id: actual.id, topic: actual.topic, key: actual.key, body: decodeBody(actual.body) },
    `${where}: message ${expected.id} must arrive with its id, topic, key and body unchanged`,
  ).toStrictEqual({ id: expected.id, topic: expected.topic, key: expected.key, body: expected.body });
}

/** How a list of received ids compares with the ids that should have arrived exactly once each. */
export interface Tally {
  readonly missing: string[];
  readonly unexpected: string[];
  readonly duplicates: string[];
}

/** Compares received ids (in any order, repeats included) with the expected set. */
export function tally(received: Iterable<string>, expected: Iterable<string>): Tally {
  const wanted = new Set(expected);
  const counts = new Map<string, number>();
  for (const id of received) counts.set(id, (counts.get(id) ?? 0) + 1);
  return {
    missing: [...wanted].filter((id) => !counts.has(id)),
    unexpected: [...counts.keys()].filter((id) => !wanted.has(id)),
    duplicates: [...counts].filter(([, count]) => count > 1).map(([id]) => id),
  };
}

/** Asserts that every expected id was received exactly once and nothing else was. */
export function expectExactlyOnce(
  received: Iterable<string>,
  expected: Iterable<string>,
  what: string,
): void {
  const result = tally(received, expected);
  expect(
    {
      missing: clip(result.missing),
      unexpected: clip(result.unexpected),
      duplicates: clip(result.duplicates),
    },
    `${what}: every published message exactly once, nothing else`,
  ).toEqual({ missing: [], unexpected: [], duplicates: [] });
}

/** Count of ids not yet received, for wait predicates. */
export function countMissing(received: Iterable<string>, expected: Iterable<string>): number {
  const seen = new Set(received);
  let missing = 0;
  for (const id of expected) if (!seen.has(id)) missing++;
  return missing;
}

/**
 * Asserts that `run` rejects with a `RelaybusError` of `code`. A synchronous throw fails too: every contract
 * method returns a promise, so callers only ever `await` or `.catch()` it.
 */
export async function expectRejection(
  run: () => Promise<unknown>,
  code: RelaybusErrorCode,
  what: string,
): Promise<void> {
  let promise: Promise<unknown>;
  try {
    promise = run();
  } catch (error) {
    throw new Error(
      `${what}: threw synchronously (${describeError(error)}); it must return a rejected promise`,
    );
  }
  let outcome: { rejected: false } | { rejected: true; error: unknown };
  try {
    await promise;
    outcome = { rejected: false };
  } catch (error) {
    outcome = { rejected: true, error };
  }
  if (!outcome.rejected) throw new Error(`${what}: resolved; it must reject with a RelaybusError "${code}"`);
  const { error } = outcome;
  expect(
    error instanceof RelaybusError,
    `${what}: must reject with a RelaybusError, got ${describeError(error)}`,
  ).toBe(true);
  expect((error as RelaybusError).code, `${what}: error code (${describeError(error)})`).toBe(code);
}

/** A promise with its resolve function exposed. */
export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
}

/** Makes a {@link Deferred}. */
export function deferred<T = void>(): Deferred<T> {
  let resolve: (value: T) => void = () => {};
  const promise = new Promise<T>((done) => {
    resolve = done;
  });
  return { promise, resolve: (value) => resolve(value) };
}

/** Ids of messages. */
export function idsOf(messages: ReadonlyArray<TransportMessage>): string[] {
  return messages.map((message) => message.id);
}

/** Resolves once `signal` aborts (at once when it already has). */
export function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

function clip(ids: string[]): string[] {
  return ids.length > 20 ? [...ids.slice(0, 20), `... and ${ids.length - 20} more`] : ids;
}

function describeError(error: unknown): string {
  if (error instanceof RelaybusError) return `${error.name} "${error.code}": ${error.message}`;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/** The state of a promise, readable without awaiting it. */
export interface Tracked {
  readonly state: () => 'pending' | 'resolved' | 'rejected';
  readonly error: () => unknown;
}

/** Watches a promise so a test can check whether it settled yet, and how. */
export function track(promise: Promise<unknown>): Tracked {
  let state: 'pending' | 'resolved' | 'rejected' = 'pending';
  let error: unknown;
  promise.then(
    () => {
      state = 'resolved';
    },
    (reason: unknown) => {
      state = 'rejected';
      error = reason;
    },
  );
  return { state: () => state, error: () => error };
}

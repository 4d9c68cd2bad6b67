import type { JobRecord } from '../../jobs/backend';
import { describeError, type ErrorShape, expectError, rejectionOf } from '../event-store/assertions';
import { expect } from '../expect';
import { tally } from '../transport/assertions';

export { describeError, expectError, rejectionOf } from '../event-store/assertions';
export { aborted, CLOCK_SLACK_MS, type Deferred, deferred, track } from '../transport/assertions';

/**
 * A job in one line for failure messages: its state, counters, dead reason and errors.
 *
 * @example
 * ```ts
 * throw new Error(`unexpected: ${summarize(await jobs.get(id))}`);
 * ```
 */
export function summarize(job: JobRecord | undefined): string {
  if (job === undefined) return 'absent';
  const errors = job.errors.map((entry) => `#${entry.attempt} ${entry.kind} "${entry.error.message}"`);
  const dead = job.deadReason === undefined ? '' : ` (${job.deadReason})`;
  return `${job.state}${dead}, ${job.failures} failures, ${job.crashes} crashes, errors [${errors.join('; ')}]`;
}

/** One entry of a job's error history, reduced to what the suite compares. */
export interface AttemptErrorSummary {
  readonly attempt: number;
  readonly kind: 'error' | 'timeout' | 'crash';
  readonly message: string;
}

/**
 * A job's error history as `{ attempt, kind, message }` entries, oldest first.
 *
 * @example
 * ```ts
 * expect(attemptErrors(job)).toEqual([{ attempt: 1, kind: 'error', message: 'boom' }]);
 * ```
 */
export function attemptErrors(job: JobRecord | undefined): AttemptErrorSummary[] {
  return (job?.errors ?? []).map((entry) => ({
    attempt: entry.attempt,
    kind: entry.kind,
    message: entry.error.message,
  }));
}

/**
 * Asserts that `run` rejects with an error of `expected`'s name, code and fields (compared by value, so errors of
 * another copy of `@relaybus/core` pass), and returns the error for further checks.
 *
 * @example
 * ```ts
 * await expectRejectionShape(() => jobs.enqueue(Task, bad), { name: 'ValidationError', code: 'VALIDATION_FAILED' }, 'bad payload');
 * ```
 */
export async function expectRejectionShape(
  run: () => Promise<unknown>,
  expected: ErrorShape,
  what: string,
): Promise<Error> {
  const error = await rejectionOf(run, what);
  expectError(error, expected, what);
  return error as Error;
}

/**
 * Runs `run`, which must throw synchronously, and returns what it threw.
 *
 * @example
 * ```ts
 * const error = thrownBy(() => scheduler.add('s', Task, payload, { everyMs: 0 }), 'everyMs 0');
 * ```
 */
export function thrownBy(run: () => unknown, what: string): unknown {
  let result: unknown;
  try {
    result = run();
  } catch (error) {
    return error;
  }
  if (result instanceof Promise) result.catch(() => {});
  throw new Error(`${what}: returned ${describeError(result)}; it must throw`);
}

/**
 * Asserts that an error's `option` names the option at fault.
 *
 * @example
 * ```ts
 * expectOption(error, /attempts/, 'attempts: 0');
 * ```
 */
export function expectOption(error: unknown, option: RegExp, what: string): void {
  const named = typeof error === 'object' && error !== null ? Reflect.get(error, 'option') : undefined;
  expect(named, `${what}: the error names the option at fault (${describeError(error)})`).toMatch(option);
}

/**
 * Asserts that every job id in `expected` was handled exactly once and no other job was.
 *
 * @example
 * ```ts
 * expectEachJobOnce(handledIds, enqueuedIds, '4 workers');
 * ```
 */
export function expectEachJobOnce(handled: Iterable<string>, expected: Iterable<string>, what: string): void {
  const { missing, unexpected, duplicates } = tally(handled, expected);
  const clip = (ids: string[]): string[] =>
    ids.length > 20 ? [...ids.slice(0, 20), `... and ${ids.length - 20} more`] : ids;
  expect(
    { missing: clip(missing), unexpected: clip(unexpected), duplicates: clip(duplicates) },
    `${what}: every enqueued job handled exactly once, nothing else`,
  ).toEqual({ missing: [], unexpected: [], duplicates: [] });
}

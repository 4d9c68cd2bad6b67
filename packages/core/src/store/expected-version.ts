import { InvalidOptionError, VersionConflictError } from '../errors';
import type { ExpectedVersion } from './event-store';

/**
 * Checks an expected version against a stream's actual version (0 when it does not exist). Event stores share it
 * so every implementation enforces the four modes the same way.
 *
 * @throws {@link VersionConflictError} when the expectation does not hold.
 * @example
 * ```ts
 * assertExpectedVersion('task-1', 'no_stream', await currentVersion('task-1'));
 * ```
 */
export function assertExpectedVersion(stream: string, expected: ExpectedVersion, actual: number): void {
  if (expected === 'any') return;
  if (expected === 'no_stream') {
    if (actual !== 0) throw new VersionConflictError(stream, expected, actual);
    return;
  }
  if (expected === 'stream_exists') {
    if (actual === 0) throw new VersionConflictError(stream, expected, actual);
    return;
  }
  if (expected !== actual) throw new VersionConflictError(stream, expected, actual);
}

/**
 * Validates the arguments of an append: a usable stream name, a non-empty batch and a well-formed expected version.
 *
 * @throws {@link InvalidOptionError} naming the argument at fault.
 * @example
 * ```ts
 * checkAppendArguments('postgres', stream, events, options.expectedVersion ?? 'any');
 * ```
 */
export function checkAppendArguments(
  store: string,
  stream: unknown,
  events: unknown,
  expected: unknown,
): asserts stream is string {
  const where = `${store} store: append(${JSON.stringify(stream)})`;
  if (typeof stream !== 'string' || stream.length === 0 || stream.length > 512) {
    throw new InvalidOptionError(where, 'stream', 'must be a non-empty string of at most 512 characters');
  }
  if (!Array.isArray(events) || events.length === 0) {
    throw new InvalidOptionError(
      where,
      'events',
      'must be a non-empty array of envelopes; there is nothing to append',
    );
  }
  const validMode = expected === 'any' || expected === 'no_stream' || expected === 'stream_exists';
  if (!validMode && !(typeof expected === 'number' && Number.isInteger(expected) && expected >= 0)) {
    throw new InvalidOptionError(
      where,
      'expectedVersion',
      `must be 'any', 'no_stream', 'stream_exists' or an integer >= 0, got ${JSON.stringify(expected)}`,
    );
  }
}

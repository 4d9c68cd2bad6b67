import type { Envelope, ExpectedVersion } from '@relaybus/core';
import {
  checkAppendArguments,
  decodeEnvelope,
  InvalidEnvelopeError,
  InvalidOptionError,
} from '@relaybus/core';
import { partitionOf, streamLockKey } from './identifiers';

/** An append, checked and ready to send. */
export interface AppendPlan {
  readonly stream: string;
  readonly expected: ExpectedVersion;
  readonly events: ReadonlyArray<Envelope>;
  /** The envelopes as one JSON array, the way the insert takes them. */
  readonly json: string;
  readonly partitions: ReadonlyArray<number>;
  /** The second key of the stream's append lock (see `streamLockKey`). */
  readonly lockKey: number;
}

/**
 * Validates an append's arguments and prepares its insert.
 *
 * @throws `InvalidOptionError` or `InvalidEnvelopeError` for bad arguments, before anything is sent.
 */
export function planAppend(
  schema: string,
  stream: unknown,
  events: unknown,
  expected: unknown,
  partitions: number,
): AppendPlan {
  checkAppendArguments('postgres', stream, events, expected);
  const checked = (events as ReadonlyArray<unknown>).map((event, index) => storable(event, index));
  const ids = new Set<string>();
  for (const event of checked) {
    if (ids.has(event.id)) {
      throw new InvalidOptionError(
        `postgres store: append(${JSON.stringify(stream)})`,
        'events',
        `holds event id "${event.id}" twice; every event needs its own id`,
      );
    }
    ids.add(event.id);
  }
  let json: string;
  try {
    json = JSON.stringify(checked);
  } catch (error) {
    throw new InvalidEnvelopeError(`events cannot be serialised as JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return {
    stream,
    expected: expected as ExpectedVersion,
    events: checked,
    json,
    partitions: checked.map((event) => partitionOf(event.key ?? stream, partitions)),
    lockKey: streamLockKey(schema, stream),
  };
}

function storable(value: unknown, index: number): Envelope {
  let event: Envelope;
  try {
    event = decodeEnvelope(value);
  } catch (error) {
    throw new InvalidEnvelopeError(`events[${index}]: ${(error as Error).message}`, { cause: error });
  }
  // Where an event is stored is the store's to say, not the envelope's.
  const { position: _position, stream: _stream, streamVersion: _streamVersion, ...envelope } = event;
  return envelope;
}

/** Whether `expected` allows appending to a stream at version `actual`. */
export function holds(expected: ExpectedVersion, actual: number): boolean {
  if (expected === 'any') return true;
  if (expected === 'no_stream') return actual === 0;
  if (expected === 'stream_exists') return actual > 0;
  return expected === actual;
}

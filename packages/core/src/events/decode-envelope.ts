import { InvalidEnvelopeError } from '../errors';
import type { Envelope } from './envelope';

const REQUIRED_STRINGS = ['id', 'type', 'time', 'source'] as const;
const OPTIONAL_STRINGS = [
  'subject',
  'key',
  'correlationId',
  'causationId',
  'traceparent',
  'position',
  'stream',
] as const;

/**
 * Checks that a received value (an object, or JSON text) has the shape of an {@link Envelope} and returns it.
 * Only the envelope is checked; the payload is validated against its event's schema by the bus.
 * Optional fields that are `undefined` or `null` are dropped.
 *
 * @throws {@link InvalidEnvelopeError} naming every field that is missing or of the wrong type.
 * @example
 * ```ts
 * const event = decodeEnvelope(message.body);
 * ```
 */
export function decodeEnvelope(input: unknown): Envelope {
  let value = input;
  if (typeof value === 'string' || value instanceof Uint8Array) {
    const text = typeof value === 'string' ? value : new TextDecoder().decode(value);
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new InvalidEnvelopeError(`body is not valid JSON (${text.length} characters)`, { cause: error });
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidEnvelopeError(`expected an object, got ${value === null ? 'null' : typeof value}`);
  }
  const raw = value as Record<string, unknown>;
  if (isWellFormed(raw)) return raw as unknown as Envelope;
  const problems: string[] = [];
  for (const field of REQUIRED_STRINGS) {
    if (typeof raw[field] !== 'string' || raw[field] === '')
      problems.push(`"${field}" must be a non-empty string`);
  }
  const version = raw['version'];
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    problems.push('"version" must be an integer >= 1');
  }
  if (!('data' in raw)) problems.push('"data" is missing');
  const metadata = raw['metadata'] ?? {};
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    problems.push('"metadata" must be an object of strings');
  } else {
    for (const [name, entry] of Object.entries(metadata)) {
      if (typeof entry !== 'string') problems.push(`"metadata.${name}" must be a string`);
    }
  }
  let clean = true;
  for (const field of OPTIONAL_STRINGS) {
    const entry = raw[field];
    if (entry === undefined || entry === null) clean = clean && !(field in raw);
    else if (typeof entry !== 'string') problems.push(`"${field}" must be a string`);
  }
  const streamVersion = raw['streamVersion'];
  if (streamVersion === null || (streamVersion === undefined && 'streamVersion' in raw)) clean = false;
  else if (
    streamVersion !== undefined &&
    (typeof streamVersion !== 'number' || !Number.isInteger(streamVersion))
  ) {
    problems.push('"streamVersion" must be an integer');
  }
  if (problems.length > 0) {
    const id = typeof raw['id'] === 'string' ? ` (id ${raw['id']})` : '';
    throw new InvalidEnvelopeError(`${problems.join('; ')}${id}`);
  }
  if (clean && raw['metadata'] !== undefined) return raw as unknown as Envelope;
  const out: Record<string, unknown> = {};
  for (const [name, entry] of Object.entries(raw))
    if (entry !== undefined && entry !== null) out[name] = entry;
  out['metadata'] = metadata;
  if (!('data' in out)) out['data'] = null;
  return out as unknown as Envelope;
}

/** A string, or absent: a key present with `undefined` takes the slow path, which drops it. */
const optionalString = (raw: Record<string, unknown>, name: string): boolean => {
  const value = raw[name];
  return typeof value === 'string' || (value === undefined && !(name in raw));
};

/** The common case, checked without allocating: every field present and of the right type, no nulls. */
function isWellFormed(raw: Record<string, unknown>): boolean {
  const { id, type, time, source, version, metadata } = raw;
  if (typeof id !== 'string' || id === '' || typeof type !== 'string' || type === '') return false;
  if (typeof time !== 'string' || time === '' || typeof source !== 'string' || source === '') return false;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1 || !('data' in raw))
    return false;
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) return false;
  for (const name in metadata)
    if (typeof (metadata as Record<string, unknown>)[name] !== 'string') return false;
  const { streamVersion } = raw;
  return (
    optionalString(raw, 'subject') &&
    optionalString(raw, 'key') &&
    optionalString(raw, 'correlationId') &&
    optionalString(raw, 'causationId') &&
    optionalString(raw, 'traceparent') &&
    optionalString(raw, 'position') &&
    optionalString(raw, 'stream') &&
    (streamVersion === undefined
      ? !('streamVersion' in raw)
      : typeof streamVersion === 'number' && Number.isInteger(streamVersion))
  );
}

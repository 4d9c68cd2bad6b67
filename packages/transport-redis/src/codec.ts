import type { TransportMessage } from '@relaybus/core';

/** Version of the stream entry format, written as field `v`. */
export const FORMAT_VERSION = '1';

/**
 * Stream entry fields: `v` format version, `i` message id, `k` key, `b` body (JSON text); retries and redrives
 * also carry `g` (the only group that takes it; `~` for every group-less subscriber), `a` (attempt of the first
 * delivery of this entry), `f` (first attempt, epoch ms) and `r` (a nonce the nacking owner waits for).
 */
export interface EntryExtras {
  readonly group?: string;
  readonly attempt?: number;
  readonly firstAttemptAt?: number;
  readonly nonce?: string;
}

/** Fields of a stream entry, as a flat `[name, value, ...]` list. */
export function entryFields(
  id: string,
  key: string | undefined,
  body: string,
  extras?: EntryExtras,
): string[] {
  const fields = ['v', FORMAT_VERSION, 'i', id];
  if (key !== undefined) fields.push('k', key);
  fields.push('b', body);
  if (extras !== undefined) {
    if (extras.group !== undefined) fields.push('g', extras.group);
    if (extras.attempt !== undefined) fields.push('a', String(extras.attempt));
    if (extras.firstAttemptAt !== undefined) fields.push('f', String(extras.firstAttemptAt));
    if (extras.nonce !== undefined) fields.push('r', extras.nonce);
  }
  return fields;
}

/** Serialises a body to JSON text, or returns `undefined` when it has no JSON form. */
export function encodeBody(body: unknown): string | undefined {
  try {
    const text = JSON.stringify(body);
    return typeof text === 'string' ? text : undefined;
  } catch {
    return undefined;
  }
}

/** A stream entry the transport can deliver. */
export interface DecodedEntry {
  readonly ok: true;
  readonly message: TransportMessage;
  /** The JSON text of the body, kept for retries and dead letters. */
  readonly bodyText: string;
  readonly group: string | undefined;
  /** Attempt number of this entry's first delivery. */
  readonly baseAttempt: number;
  readonly firstAttemptAt: number | undefined;
  readonly nonce: string | undefined;
}

/** A stream entry that is not a relaybus message (written by something else, or corrupted). */
export interface InvalidEntry {
  readonly ok: false;
  readonly problem: string;
  /** What the entry held, as JSON text of its fields. */
  readonly raw: string;
  /** The `i` field when there was one, else the stream entry id. */
  readonly messageId: string;
  readonly key: string | undefined;
}

/** Decodes the flat field list of a stream entry of `topic`. */
export function decodeEntry(entryId: string, topic: string, fields: unknown): DecodedEntry | InvalidEntry {
  if (!Array.isArray(fields)) {
    return invalid(entryId, {}, `stream entry ${entryId} has no fields`);
  }
  let version: string | undefined;
  let id: string | undefined;
  let bodyText: string | undefined;
  let key: string | undefined;
  let group: string | undefined;
  let attemptText: string | undefined;
  let firstText: string | undefined;
  let nonce: string | undefined;
  let other = false;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const value = fields[i + 1];
    if (typeof value !== 'string') continue;
    switch (fields[i]) {
      case 'v':
        version = value;
        break;
      case 'i':
        id = value;
        break;
      case 'b':
        bodyText = value;
        break;
      case 'k':
        key = value;
        break;
      case 'g':
        group = value;
        break;
      case 'a':
        attemptText = value;
        break;
      case 'f':
        firstText = value;
        break;
      case 'r':
        nonce = value;
        break;
      default:
        other = true;
    }
  }
  if (other || version !== FORMAT_VERSION || id === undefined || id.length === 0 || bodyText === undefined) {
    return checkInvalid(entryId, topic, fieldMap(fields));
  }
  let body: unknown;
  try {
    body = JSON.parse(bodyText);
  } catch {
    return invalid(
      entryId,
      fieldMap(fields),
      `stream entry ${entryId} of "${topic}": body is not valid JSON`,
    );
  }
  const attempt = attemptText === undefined ? 1 : Number(attemptText);
  const first = firstText === undefined ? undefined : Number(firstText);
  return {
    ok: true,
    message: key === undefined ? { id, topic, body } : { id, topic, key, body },
    bodyText,
    group,
    baseAttempt: Number.isSafeInteger(attempt) && attempt >= 1 ? attempt : 1,
    firstAttemptAt: first !== undefined && Number.isFinite(first) ? first : undefined,
    nonce,
  };
}

function fieldMap(fields: ReadonlyArray<unknown>): Record<string, string> {
  const map: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i];
    const value = fields[i + 1];
    if (typeof name === 'string' && typeof value === 'string') map[name] = value;
  }
  return map;
}

/** Explains why an entry with these fields is not a message (or decodes it when unknown fields were the only oddity). */
function checkInvalid(
  entryId: string,
  topic: string,
  map: Record<string, string>,
): DecodedEntry | InvalidEntry {
  const version = map['v'];
  const id = map['i'];
  const bodyText = map['b'];
  if (version !== FORMAT_VERSION) {
    return invalid(
      entryId,
      map,
      version === undefined
        ? `stream entry ${entryId} of "${topic}" has no format version field "v"; it was not written by relaybus`
        : `stream entry ${entryId} of "${topic}" has format version ${JSON.stringify(version)}; this version reads "${FORMAT_VERSION}"`,
    );
  }
  if (id === undefined || id.length === 0 || bodyText === undefined) {
    return invalid(entryId, map, `stream entry ${entryId} of "${topic}" lacks field "${id ? 'b' : 'i'}"`);
  }
  // Only unknown extra fields: a newer writer's additions are ignored.
  const known = Object.entries(map).flatMap(([name, value]) =>
    ['v', 'i', 'b', 'k', 'g', 'a', 'f', 'r'].includes(name) ? [name, value] : [],
  );
  return decodeEntry(entryId, topic, known);
}

function invalid(entryId: string, map: Record<string, string>, problem: string): InvalidEntry {
  const id = map['i'];
  return {
    ok: false,
    problem,
    raw: JSON.stringify(map),
    messageId: id !== undefined && id.length > 0 ? id : entryId,
    key: map['k'],
  };
}

/** The epoch milliseconds of a stream entry id (`<ms>-<seq>`). */
export function entryTime(entryId: string): number {
  const dash = entryId.indexOf('-');
  const ms = Number(dash === -1 ? entryId : entryId.slice(0, dash));
  return Number.isFinite(ms) ? ms : Date.now();
}

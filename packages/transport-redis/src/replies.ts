import { IncompatibleClientError } from './errors';

/**
 * Readers of the replies the transport parses itself, for every client it supports. ioredis 5 speaks RESP2;
 * ioredis 6 defaults to RESP3, where a map reply (XREADGROUP's streams) arrives as nested pairs (6.1), as a flat
 * `[key, value, key, value]` list (6.0 with `replyMapping: 'legacy'`) or as a plain object (`replyMapping: 'resp3'`).
 * Each reader accepts exactly the shapes seen from those clients and throws {@link IncompatibleClientError} for
 * anything else: a reply skipped in silence would leave messages pending forever.
 */

/** One stream entry: its id and its flat `[field, value, ...]` list (`null` for an entry deleted since). */
export interface StreamEntry {
  readonly id: string;
  readonly fields: ReadonlyArray<unknown> | null;
}

/** The entries read from one stream. */
export interface StreamEntries {
  readonly stream: string;
  readonly entries: ReadonlyArray<StreamEntry>;
}

/** One row of an extended `XPENDING`: entry id, consumer holding it, idle ms, deliveries so far. */
export interface PendingRow {
  readonly id: string;
  readonly consumer: string;
  readonly idleMs: number;
  readonly deliveries: number;
}

/** The summary form of `XPENDING`: how many entries are pending, and with which consumers. */
export interface PendingSummary {
  readonly count: number;
  readonly consumers: ReadonlyArray<{ readonly name: string; readonly count: number }>;
}

function unrecognised(command: string, reply: unknown, expected: string): IncompatibleClientError {
  return new IncompatibleClientError(
    command,
    `the reply to ${command} was not recognised (expected ${expected}, got ${preview(reply)})`,
  );
}

function preview(reply: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(reply) ?? String(reply);
  } catch {
    text = String(reply);
  }
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Reads an `XREADGROUP` (or `XREAD`) reply: `null` when nothing arrived, else the entries of each stream.
 *
 * @throws {@link IncompatibleClientError} for any other shape.
 */
export function parseStreamRead(reply: unknown): StreamEntries[] {
  if (reply === null || reply === undefined) return [];
  const expected = '[[stream, entries], ...], a flat [stream, entries, ...] list or { stream: entries }';
  let pairs: Array<[unknown, unknown]>;
  if (Array.isArray(reply)) {
    if (reply.length === 0) return [];
    if (Array.isArray(reply[0])) {
      pairs = reply.map((pair: unknown) => {
        if (!Array.isArray(pair) || pair.length !== 2) throw unrecognised('XREADGROUP', reply, expected);
        return [pair[0], pair[1]];
      });
    } else {
      if (reply.length % 2 !== 0) throw unrecognised('XREADGROUP', reply, expected);
      pairs = [];
      for (let i = 0; i < reply.length; i += 2) pairs.push([reply[i], reply[i + 1]]);
    }
  } else if (isPlainObject(reply)) {
    pairs = Object.entries(reply);
  } else {
    throw unrecognised('XREADGROUP', reply, expected);
  }
  return pairs.map(([stream, entries]) => {
    if (typeof stream !== 'string') throw unrecognised('XREADGROUP', reply, expected);
    return { stream, entries: parseEntries('XREADGROUP', entries) };
  });
}

/**
 * Reads a list of stream entries (`XCLAIM`, `XRANGE`, one stream of `XREADGROUP`).
 *
 * @throws {@link IncompatibleClientError} when it is not a list of `[id, fields]` pairs.
 */
export function parseEntries(command: string, reply: unknown): StreamEntry[] {
  const expected = 'a list of [id, [field, value, ...]] entries';
  if (!Array.isArray(reply)) throw unrecognised(command, reply, expected);
  return reply.map((entry: unknown) => {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string') throw unrecognised(command, reply, expected);
    const fields: unknown = entry[1];
    if (fields !== null && !Array.isArray(fields)) throw unrecognised(command, reply, expected);
    return { id: entry[0], fields };
  });
}

/**
 * Reads the extended form of `XPENDING` (`XPENDING key group [IDLE ms] start end count [consumer]`).
 *
 * @throws {@link IncompatibleClientError} for any other shape.
 */
export function parsePendingRows(reply: unknown): PendingRow[] {
  const expected = 'a list of [id, consumer, idle, deliveries] rows';
  if (!Array.isArray(reply)) throw unrecognised('XPENDING', reply, expected);
  return reply.map((row: unknown) => {
    if (!Array.isArray(row) || typeof row[0] !== 'string' || typeof row[1] !== 'string') {
      throw unrecognised('XPENDING', reply, expected);
    }
    return { id: row[0], consumer: row[1], idleMs: Number(row[2]) || 0, deliveries: Number(row[3]) || 0 };
  });
}

/**
 * Reads the summary form of `XPENDING` (`XPENDING key group`).
 *
 * @throws {@link IncompatibleClientError} for any other shape.
 */
export function parsePendingSummary(reply: unknown): PendingSummary {
  const expected = '[count, first, last, [[consumer, count], ...]]';
  if (!Array.isArray(reply)) throw unrecognised('XPENDING', reply, expected);
  const [count, , , consumers] = reply as unknown[];
  const rows: unknown = consumers ?? [];
  if (!Array.isArray(rows)) throw unrecognised('XPENDING', reply, expected);
  return {
    count: Number(count) || 0,
    consumers: rows.map((row: unknown) => {
      if (!Array.isArray(row) || typeof row[0] !== 'string') throw unrecognised('XPENDING', reply, expected);
      return { name: row[0], count: Number(row[1]) || 0 };
    }),
  };
}

/**
 * Reads the reply of one of the transport's Lua scripts that return a table.
 *
 * @throws {@link IncompatibleClientError} when it is not a list.
 */
export function parseScriptArray(script: string, reply: unknown): unknown[] {
  if (!Array.isArray(reply)) throw unrecognised(`EVALSHA (${script})`, reply, 'a list');
  return reply;
}

/**
 * Reads a flat `[field, value, ...]` list of strings, such as `HGETALL` of a hash as a Lua script returns it (an
 * array in RESP2 and RESP3 alike).
 *
 * @throws {@link IncompatibleClientError} when it is not such a list.
 */
export function parseFieldList(script: string, reply: unknown): Map<string, string> {
  const expected = 'a flat [field, value, ...] list of strings';
  if (!Array.isArray(reply) || reply.length % 2 !== 0) {
    throw unrecognised(`EVALSHA (${script})`, reply, expected);
  }
  const fields = new Map<string, string>();
  for (let index = 0; index < reply.length; index += 2) {
    const [field, value]: unknown[] = [reply[index], reply[index + 1]];
    if (typeof field !== 'string' || typeof value !== 'string') {
      throw unrecognised(`EVALSHA (${script})`, reply, expected);
    }
    fields.set(field, value);
  }
  return fields;
}

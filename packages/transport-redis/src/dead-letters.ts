import type {
  DeadLetter,
  DeadLetterFilter,
  DeadLetterQueue,
  DeadLetterReason,
  SerializedError,
  TransportMessage,
} from '@relaybus/core';
import { checkDeadLetterFilter, matchesDeadLetterFilter } from '@relaybus/core/transport-kit';
import { entryFields } from './codec';
import type { RedisClient } from './connection';
import { ANY_GROUPLESS, type KeySpace, partitionOfKey } from './names';
import type { TopicRegistry } from './topic-registry';

/** What is written for one dead letter. */
export interface DeadLetterRecord {
  readonly messageId: string;
  readonly topic: string;
  readonly key: string | undefined;
  /** The body as carried on the wire (JSON text, or the raw entry of an undecodable one). */
  readonly bodyText: string;
  /** The named group, or `undefined` for a group-less subscriber. */
  readonly group: string | undefined;
  readonly reason: DeadLetterReason;
  readonly error: SerializedError;
  readonly attempts: number;
  readonly firstAttemptAt: number;
  readonly lastAttemptAt: number;
}

const PAGE = 500;
const REASONS: ReadonlySet<string> = new Set([
  'MAX_ATTEMPTS',
  'NON_RETRYABLE',
  'VALIDATION_FAILED',
  'INVALID_ENVELOPE',
  'UNKNOWN_EVENT',
  'REJECTED',
]);

/**
 * The dead-letter list of a prefix: one stream (`<prefix>:dlq`) whose entries keep the message, group, reason,
 * error, attempts and timestamps. Redrive re-adds a letter to its topic's partition stream addressed to the group
 * it failed in (or to every group-less subscriber), then deletes it from the list.
 */
export class RedisDeadLetters implements DeadLetterQueue {
  readonly #redis: RedisClient;
  readonly #keys: KeySpace;
  readonly #registry: TopicRegistry;

  constructor(redis: RedisClient, keys: KeySpace, registry: TopicRegistry) {
    this.#redis = redis;
    this.#keys = keys;
    this.#registry = registry;
  }

  /** Appends a dead letter. */
  async add(record: DeadLetterRecord): Promise<void> {
    const fields = ['i', record.messageId, 't', record.topic];
    if (record.key !== undefined) fields.push('k', record.key);
    fields.push('b', record.bodyText);
    if (record.group !== undefined) fields.push('g', record.group);
    fields.push(
      'r',
      record.reason,
      'e',
      JSON.stringify(record.error),
      'n',
      String(record.attempts),
      'f',
      String(record.firstAttemptAt),
      'l',
      String(record.lastAttemptAt),
      'd',
      String(Date.now()),
    );
    await this.#redis.xadd(this.#keys.deadLetters, '*', ...fields);
  }

  async list(filter: DeadLetterFilter = {}): Promise<DeadLetter[]> {
    checkDeadLetterFilter(filter, 'deadLetters.list()');
    return (await this.#select(filter)).map((entry) => entry.letter);
  }

  async redrive(filter: DeadLetterFilter = {}): Promise<number> {
    checkDeadLetterFilter(filter, 'deadLetters.redrive()');
    let count = 0;
    for (const { letter, bodyText } of await this.#select(filter)) {
      const { topic, key, id } = letter.message;
      const partitions = await this.#registry.ensure(topic);
      const partition = key === undefined ? 0 : partitionOfKey(key, partitions);
      const fields = entryFields(id, key, bodyText, { group: letter.group ?? ANY_GROUPLESS });
      await this.#redis.xadd(this.#keys.stream(topic, partition), '*', ...fields);
      count += await this.#redis.xdel(this.#keys.deadLetters, letter.id);
    }
    return count;
  }

  async purge(filter: DeadLetterFilter = {}): Promise<number> {
    checkDeadLetterFilter(filter, 'deadLetters.purge()');
    const ids = (await this.#select(filter)).map((entry) => entry.letter.id);
    let count = 0;
    for (let start = 0; start < ids.length; start += PAGE) {
      count += await this.#redis.xdel(this.#keys.deadLetters, ...ids.slice(start, start + PAGE));
    }
    return count;
  }

  async #select(filter: DeadLetterFilter): Promise<Array<{ letter: DeadLetter; bodyText: string }>> {
    const limit = filter.limit ?? Number.POSITIVE_INFINITY;
    const selected: Array<{ letter: DeadLetter; bodyText: string }> = [];
    if (limit === 0) return selected;
    // Ids are looked up below; the rest of the filter is matched per letter.
    const { ids: _ids, ...scope } = filter;
    const take = (raw: unknown): boolean => {
      const parsed = parseLetter(raw);
      if (parsed === undefined) return false;
      if (!matchesDeadLetterFilter(parsed.letter, scope)) return false;
      selected.push(parsed);
      return selected.length >= limit;
    };
    if (filter.ids !== undefined) {
      const ids = [...new Set(filter.ids)].filter((id) => /^\d+-\d+$/.test(id)).sort(compareIds);
      for (const id of ids) {
        const entries = await this.#redis.xrange(this.#keys.deadLetters, id, id);
        for (const entry of entries) if (take(entry)) return selected;
      }
      return selected;
    }
    let start = '-';
    for (;;) {
      const entries = await this.#redis.xrange(this.#keys.deadLetters, start, '+', 'COUNT', PAGE);
      for (const entry of entries) if (take(entry)) return selected;
      const last = entries[entries.length - 1];
      if (entries.length < PAGE || last === undefined) return selected;
      start = `(${last[0]}`;
    }
  }
}

function compareIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am - bm || as - bs;
}

function parseLetter(raw: unknown): { letter: DeadLetter; bodyText: string } | undefined {
  if (!Array.isArray(raw)) return undefined;
  const [id, fields] = raw as [unknown, unknown];
  if (typeof id !== 'string' || !Array.isArray(fields)) return undefined;
  const map: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i];
    const value = fields[i + 1];
    if (typeof name === 'string' && typeof value === 'string') map[name] = value;
  }
  const messageId = map['i'] ?? id;
  const topic = map['t'] ?? '';
  const bodyText = map['b'] ?? '';
  const key = map['k'];
  let body: unknown = bodyText;
  try {
    body = JSON.parse(bodyText);
  } catch {
    // An undecodable entry keeps its raw text as the body.
  }
  const message: TransportMessage =
    key === undefined ? { id: messageId, topic, body } : { id: messageId, topic, key, body };
  const reason = map['r'] ?? '';
  const time = (field: string): string => {
    const ms = Number(map[field]);
    return new Date(Number.isFinite(ms) ? ms : 0).toISOString();
  };
  const group = map['g'];
  const letter: DeadLetter = {
    id,
    message,
    ...(group === undefined ? {} : { group }),
    reason: (REASONS.has(reason) ? reason : 'REJECTED') as DeadLetterReason,
    error: parseError(map['e']),
    attempts: Number(map['n'] ?? '1') || 1,
    firstAttemptAt: time('f'),
    lastAttemptAt: time('l'),
    deadLetteredAt: time('d'),
  };
  return { letter, bodyText };
}

function parseError(text: string | undefined): SerializedError {
  try {
    const value: unknown = JSON.parse(text ?? '');
    if (typeof value === 'object' && value !== null) {
      const { name, message, code, stack } = value as Record<string, unknown>;
      if (typeof name === 'string' && typeof message === 'string') {
        return {
          name,
          message,
          ...(typeof code === 'string' ? { code } : {}),
          ...(typeof stack === 'string' ? { stack } : {}),
        };
      }
    }
  } catch {
    // Fall through to a generic error that keeps the raw text.
  }
  return { name: 'Error', message: text ?? 'unknown error' };
}

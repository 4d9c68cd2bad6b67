import { InvalidOptionError, TransportError } from '../errors';
import { uuidv7 } from '../events/uuid';
import type {
  DeadLetter,
  DeadLetterFilter,
  DeadLetterInput,
  DeadLetterQueue,
  TransportMessage,
} from '../transport/transport';

/**
 * Validates a dead-letter filter given to `deadLetters.list()`, `redrive()` or `purge()`.
 *
 * @throws `InvalidOptionError` naming `where` and the offending field.
 * @example
 * ```ts
 * import { checkDeadLetterFilter } from '@relaybus/core/transport-kit';
 *
 * checkDeadLetterFilter(filter, 'deadLetters.list()');
 * ```
 */
export function checkDeadLetterFilter(filter: DeadLetterFilter, where: string): void {
  if (typeof filter !== 'object' || filter === null) {
    throw new InvalidOptionError(where, 'filter', 'must be an object');
  }
  const { limit, ids, group, topic } = filter;
  if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 0)) {
    throw new InvalidOptionError(where, 'limit', `must be an integer >= 0, got ${String(limit)}`);
  }
  if (ids !== undefined && (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string'))) {
    throw new InvalidOptionError(where, 'ids', 'must be an array of dead-letter ids');
  }
  if (group !== undefined && typeof group !== 'string') {
    throw new InvalidOptionError(where, 'group', `must be a string, got ${typeof group}`);
  }
  if (topic !== undefined && typeof topic !== 'string') {
    throw new InvalidOptionError(where, 'topic', `must be a string, got ${typeof topic}`);
  }
}

/**
 * Whether a dead letter is selected by a filter's `ids`, `group` and `topic` (not `limit`).
 *
 * @example
 * ```ts
 * import { matchesDeadLetterFilter } from '@relaybus/core/transport-kit';
 *
 * const mine = letters.filter((letter) => matchesDeadLetterFilter(letter, { group: 'mailer' }));
 * ```
 */
export function matchesDeadLetterFilter(letter: DeadLetter, filter: DeadLetterFilter): boolean {
  if (filter.ids !== undefined && !filter.ids.includes(letter.id)) return false;
  if (filter.group !== undefined && letter.group !== filter.group) return false;
  return filter.topic === undefined || letter.message.topic === filter.topic;
}

/**
 * Picks the items a filter selects, in the given order, at most `filter.limit`. `letterOf` reads the dead letter of
 * an item when items carry more than the letter (a broker handle, say).
 *
 * @example
 * ```ts
 * import { selectDeadLetters } from '@relaybus/core/transport-kit';
 *
 * const selected = selectDeadLetters(records, filter, (record) => record.letter);
 * ```
 */
export function selectDeadLetters<T>(
  items: Iterable<T>,
  filter: DeadLetterFilter,
  letterOf: (item: T) => DeadLetter,
): T[] {
  const limit = filter.limit ?? Number.POSITIVE_INFINITY;
  const selected: T[] = [];
  if (limit <= 0) return selected;
  const ids = filter.ids === undefined ? undefined : new Set(filter.ids);
  for (const item of items) {
    const letter = letterOf(item);
    if (ids !== undefined && !ids.has(letter.id)) continue;
    if (filter.group !== undefined && letter.group !== filter.group) continue;
    if (filter.topic !== undefined && letter.message.topic !== filter.topic) continue;
    selected.push(item);
    if (selected.length >= limit) break;
  }
  return selected;
}

/**
 * What a dead letter is made of; see {@link createDeadLetter}.
 *
 * @example
 * ```ts
 * const fields: DeadLetterFields = { message, group: 'mailer', input, attempts: 3, firstAttemptAt, lastAttemptAt };
 * ```
 */
export interface DeadLetterFields {
  /** The entry's id; a new UUIDv7 when absent. */
  readonly id?: string;
  readonly message: TransportMessage;
  /** The group it failed in; absent for a group-less subscriber. */
  readonly group?: string | undefined;
  /** Reason and last error, as given to `delivery.deadLetter()`. */
  readonly input: DeadLetterInput;
  readonly attempts: number;
  /** Epoch ms. */
  readonly firstAttemptAt: number;
  /** Epoch ms. */
  readonly lastAttemptAt: number;
  /** Epoch ms; now when absent. */
  readonly deadLetteredAt?: number;
}

/**
 * Builds a {@link DeadLetter} the way every transport reports it (ISO timestamps, no `group` key for group-less
 * subscribers).
 *
 * @example
 * ```ts
 * import { createDeadLetter } from '@relaybus/core/transport-kit';
 *
 * const letter = createDeadLetter({ message, group, input, attempts: delivery.attempt,
 *   firstAttemptAt: delivery.firstAttemptAt, lastAttemptAt: delivery.startedAt });
 * ```
 */
export function createDeadLetter(fields: DeadLetterFields): DeadLetter {
  const { group } = fields;
  return {
    id: fields.id ?? uuidv7(),
    message: fields.message,
    ...(group === undefined ? {} : { group }),
    reason: fields.input.reason,
    error: fields.input.error,
    attempts: fields.attempts,
    firstAttemptAt: new Date(fields.firstAttemptAt).toISOString(),
    lastAttemptAt: new Date(fields.lastAttemptAt).toISOString(),
    deadLetteredAt: new Date(fields.deadLetteredAt ?? Date.now()).toISOString(),
  };
}

/**
 * The `deadLetters` of a transport whose `capabilities.deadLetters` is `false`: every method rejects with a
 * `TransportError` of code `UNSUPPORTED` that says where the broker keeps dead letters instead.
 *
 * @param transport - The transport's name, such as `sqs`.
 * @param where - Where dead-lettered messages go, such as `the queue's redrive policy target`.
 * @example
 * ```ts
 * import { unsupportedDeadLetters } from '@relaybus/core/transport-kit';
 *
 * readonly deadLetters = unsupportedDeadLetters('sqs', "each queue's dead-letter queue (its redrive policy)");
 * ```
 */
export function unsupportedDeadLetters(transport: string, where: string): DeadLetterQueue {
  const refuse = (operation: string): Promise<never> =>
    Promise.reject(
      new TransportError(
        transport,
        `deadLetters.${operation}() is not supported: dead-lettered messages go to ${where}; use the broker's tools there`,
        { code: 'UNSUPPORTED' },
      ),
    );
  return {
    list: () => refuse('list'),
    redrive: () => refuse('redrive'),
    purge: () => refuse('purge'),
  };
}

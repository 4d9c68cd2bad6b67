import { createHash } from 'node:crypto';
import type {
  DeadLetter,
  DeadLetterFilter,
  DeadLetterInput,
  DeadLetterQueue,
  DeadLetterReason,
  SerializedError,
} from '@relaybus/core';
import { checkDeadLetterFilter, createDeadLetter, selectDeadLetters } from '@relaybus/core/transport-kit';
import type { Channel, GetMessage, Message, MessagePropertyHeaders } from 'amqplib';
import { carriedHeaders, decodeMessage, publishOptions } from './codec';
import type { AmqpConnection } from './connection';
import { amqpError } from './errors';
import type { Names } from './names';
import type { Publisher, Send } from './publisher';
import type { Topology } from './topology';

/** Headers a dead letter carries besides the message's own. */
const DL = {
  id: 'relaybus-dl-id',
  group: 'relaybus-dl-group',
  queue: 'relaybus-dl-queue',
  reason: 'relaybus-dl-reason',
  error: 'relaybus-dl-error',
  attempts: 'relaybus-dl-attempts',
  firstAttemptAt: 'relaybus-dl-first-attempt-at',
  lastAttemptAt: 'relaybus-dl-last-attempt-at',
  deadLetteredAt: 'relaybus-dl-at',
} as const;

const REASONS = new Set<string>([
  'MAX_ATTEMPTS',
  'NON_RETRYABLE',
  'VALIDATION_FAILED',
  'INVALID_ENVELOPE',
  'UNKNOWN_EVENT',
  'REJECTED',
]);

/** What a consumer knows when it dead-letters a delivery. */
export interface Failure {
  readonly raw: Message;
  readonly group: string | undefined;
  /** The group queue it came from (where a redrive sends it back); undefined for group-less subscribers. */
  readonly queue: string | undefined;
  readonly input: DeadLetterInput;
  readonly attempts: number;
  readonly firstAttemptAt: number;
  readonly lastAttemptAt: number;
}

interface Item {
  readonly raw: GetMessage;
  readonly letter: DeadLetter;
  /** Where a redrive sends it. */
  readonly target: { readonly exchange: string; readonly routingKey: string };
}

function text(headers: MessagePropertyHeaders | undefined, name: string): string | undefined {
  const value: unknown = headers?.[name];
  if (typeof value === 'string') return value;
  return Buffer.isBuffer(value) ? value.toString() : undefined;
}

function num(headers: MessagePropertyHeaders | undefined, name: string, fallback: number): number {
  const value: unknown = headers?.[name];
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

/** Epoch ms of an `x-death` timestamp (amqplib gives seconds, as a number or a typed value). */
function deathTime(value: unknown): number {
  const seconds = typeof value === 'number' ? value : (value as { value?: unknown } | undefined)?.value;
  return typeof seconds === 'number' ? seconds * 1_000 : Date.now();
}

function parseError(value: string | undefined): SerializedError {
  try {
    const parsed = JSON.parse(value ?? '') as Partial<SerializedError>;
    if (typeof parsed.name === 'string' && typeof parsed.message === 'string')
      return parsed as SerializedError;
  } catch {
    // an error header that is not JSON: reported as unknown below
  }
  return { name: 'Error', message: value ?? 'unknown error' };
}

/**
 * The dead-letter list, kept in one durable queue per exchange (`<exchange>.dead-letters`): letters the consumers
 * wrote (with group, reason, error, attempts and times as headers) and messages the broker dead-lettered itself when
 * a group queue's delivery limit ran out (reason `MAX_ATTEMPTS`). Reading takes every letter off the queue without
 * acknowledging it, then closes the channel, which puts back in order whatever was not redriven or purged; a
 * concurrent reader may see a shorter list meanwhile.
 */
export class AmqpDeadLetters implements DeadLetterQueue {
  readonly #connection: AmqpConnection;
  readonly #topology: Topology;
  readonly #publisher: Publisher;
  readonly #names: Names;
  readonly #deliveryLimit: number;

  constructor(
    parts: { connection: AmqpConnection; topology: Topology; publisher: Publisher; names: Names },
    deliveryLimit: number,
  ) {
    this.#connection = parts.connection;
    this.#topology = parts.topology;
    this.#publisher = parts.publisher;
    this.#names = parts.names;
    this.#deliveryLimit = deliveryLimit;
  }

  /** The dead letter of a failed delivery, ready to send to the dead-letter queue. */
  letterOf(failure: Failure): Send {
    const { raw, group, queue } = failure;
    const { message } = decodeMessage(raw);
    const letter = createDeadLetter({ ...failure, message });
    const headers: MessagePropertyHeaders = {
      ...carriedHeaders(raw),
      [DL.id]: letter.id,
      [DL.reason]: letter.reason,
      [DL.error]: JSON.stringify(letter.error),
      [DL.attempts]: letter.attempts,
      [DL.firstAttemptAt]: failure.firstAttemptAt,
      [DL.lastAttemptAt]: failure.lastAttemptAt,
      [DL.deadLetteredAt]: Date.parse(letter.deadLetteredAt),
      ...(group === undefined ? {} : { [DL.group]: group }),
      ...(queue === undefined ? {} : { [DL.queue]: queue }),
    };
    return {
      exchange: '',
      routingKey: this.#names.deadLetters,
      content: raw.content,
      options: publishOptions(message, headers),
    };
  }

  async list(filter: DeadLetterFilter = {}): Promise<DeadLetter[]> {
    checkDeadLetterFilter(filter, 'deadLetters.list()');
    const selected = await this.#scan(filter, 'listing dead letters', async () => undefined);
    return selected.map((item) => item.letter);
  }

  async redrive(filter: DeadLetterFilter = {}): Promise<number> {
    checkDeadLetterFilter(filter, 'deadLetters.redrive()');
    const selected = await this.#scan(filter, 'redriving dead letters', async (items, channel) => {
      const sends = items.map(({ raw, letter, target }) => ({
        ...target,
        content: raw.content,
        options: publishOptions(letter.message, carriedHeaders(raw)),
      }));
      await this.#publisher.send(sends, `redriving ${sends.length} dead letter(s)`);
      for (const item of items) channel.ack(item.raw);
    });
    return selected.length;
  }

  async purge(filter: DeadLetterFilter = {}): Promise<number> {
    checkDeadLetterFilter(filter, 'deadLetters.purge()');
    const selected = await this.#scan(filter, 'purging dead letters', async (items, channel) => {
      for (const item of items) channel.ack(item.raw);
    });
    return selected.length;
  }

  async #scan(
    filter: DeadLetterFilter,
    doing: string,
    act: (selected: Item[], channel: Channel) => Promise<void>,
  ): Promise<Item[]> {
    await this.#topology.base();
    let channel: Channel | undefined;
    try {
      channel = await (await this.#connection.get()).createChannel();
      channel.on('error', () => undefined);
      const items: Item[] = [];
      for (let left = 1; left > 0; left--) {
        const raw = await channel.get(this.#names.deadLetters, { noAck: false });
        if (raw === false) break;
        if (items.length === 0) left += raw.fields.messageCount;
        items.push(this.#read(raw));
      }
      const selected = selectDeadLetters(items, filter, (item) => item.letter);
      await act(selected, channel);
      return selected;
    } catch (error) {
      throw amqpError(this.#connection.address, doing, error);
    } finally {
      // What was not acknowledged goes back to the queue, in its order.
      await channel?.close().catch(() => undefined);
    }
  }

  #read(raw: GetMessage): Item {
    const headers = raw.properties.headers;
    const { message, priorAttempts, firstAttemptAt } = decodeMessage(raw);
    const id = text(headers, DL.id);
    if (id !== undefined) {
      const reason = text(headers, DL.reason) ?? 'REJECTED';
      const group = text(headers, DL.group);
      const queue = text(headers, DL.queue);
      const letter = createDeadLetter({
        id,
        message,
        group,
        input: {
          reason: (REASONS.has(reason) ? reason : 'REJECTED') as DeadLetterReason,
          error: parseError(text(headers, DL.error)),
        },
        attempts: num(headers, DL.attempts, 1),
        firstAttemptAt: num(headers, DL.firstAttemptAt, Date.now()),
        lastAttemptAt: num(headers, DL.lastAttemptAt, Date.now()),
        deadLetteredAt: num(headers, DL.deadLetteredAt, Date.now()),
      });
      const target =
        queue === undefined
          ? {
              exchange: message.key === undefined ? this.#names.unkeyed : this.#names.keyed,
              routingKey: message.topic,
            }
          : { exchange: '', routingKey: queue };
      return { raw, letter, target };
    }
    return this.#readBrokerLetter(raw, message, priorAttempts, firstAttemptAt);
  }

  /** A message the broker dead-lettered itself: its group queue's delivery limit ran out. */
  #readBrokerLetter(
    raw: GetMessage,
    message: DeadLetter['message'],
    priorAttempts: number,
    firstAttemptAt: number,
  ): Item {
    const headers = raw.properties.headers;
    const death = headers?.['x-death']?.[0];
    const queue = text(headers, 'x-first-death-queue') ?? death?.queue ?? '';
    const at = deathTime(death?.time);
    const limited = death?.reason === ('delivery_limit' as string);
    const id = createHash('sha256').update(`${queue}\n${message.id}\n${at}`).digest('hex').slice(0, 32);
    const letter = createDeadLetter({
      id,
      message,
      group: this.#names.groupOf(queue),
      input: {
        reason: limited ? 'MAX_ATTEMPTS' : 'REJECTED',
        error: {
          name: limited ? 'DeliveryLimitError' : 'BrokerDeadLetterError',
          message: limited
            ? `delivered ${this.#deliveryLimit + 1} times without being settled (consumers crashed, lost their connection or closed while holding it): the queue's x-delivery-limit`
            : `dead-lettered by the broker (${String(death?.reason ?? 'unknown reason')}) from queue ${queue}`,
        },
      },
      attempts: priorAttempts + (limited ? this.#deliveryLimit + 1 : 1),
      firstAttemptAt: firstAttemptAt > 0 ? firstAttemptAt : at,
      lastAttemptAt: at,
      deadLetteredAt: at,
    });
    return { raw, letter, target: { exchange: '', routingKey: queue } };
  }
}

import { DeliverPolicy, type JsMsg } from '@nats-io/jetstream';
import type { DeadLetter, DeadLetterFilter, DeadLetterQueue } from '@relaybus/core';
import {
  checkDeadLetterFilter,
  createDeadLetter,
  type DeadLetterFields,
  selectDeadLetters,
} from '@relaybus/core/transport-kit';
import { encodeBody, HEADER, messageHeaders } from './codec';
import type { Connector, Session } from './connection';
import { natsError } from './errors';
import type { Topology } from './topology';

const FETCH_BATCH = 1_000;
const FETCH_EXPIRES_MS = 2_000;

/** A dead letter with the stream sequence of its record. */
interface StoredLetter {
  readonly seq: number;
  readonly letter: DeadLetter;
}

/**
 * Dead letters in their own stream (`<stream>__dead`), one JSON record per letter; a letter's id is its record's
 * stream sequence. Listing reads the stream with an ordered consumer and filters in the process; purge and redrive
 * delete records one by one (the whole stream is purged when no filter narrows it).
 */
export class NatsDeadLetters implements DeadLetterQueue {
  readonly #connector: Connector;
  readonly #topology: Topology;

  constructor(connector: Connector, topology: Topology) {
    this.#connector = connector;
    this.#topology = topology;
  }

  /** Records a dead letter; resolves once the server stored it. */
  async write(fields: DeadLetterFields): Promise<void> {
    const session = await this.#session('dead-lettering a message');
    const { id: _id, ...record } = createDeadLetter(fields);
    try {
      await session.js.publish(this.#topology.names.deadSubject, JSON.stringify(record));
    } catch (error) {
      throw natsError(
        this.#connector.address,
        `dead-lettering message ${JSON.stringify(fields.message.id)}`,
        error,
      );
    }
  }

  async list(filter: DeadLetterFilter = {}): Promise<DeadLetter[]> {
    checkDeadLetterFilter(filter, 'deadLetters.list()');
    const stored = await this.#read('listing dead letters');
    return selectDeadLetters(stored, filter, (item) => item.letter).map((item) => item.letter);
  }

  async redrive(filter: DeadLetterFilter = {}): Promise<number> {
    checkDeadLetterFilter(filter, 'deadLetters.redrive()');
    const selected = selectDeadLetters(
      await this.#read('redriving dead letters'),
      filter,
      (item) => item.letter,
    );
    const session = await this.#session('redriving dead letters');
    const partitions = await this.#topology.ensureStreams(session);
    const { names } = this.#topology;
    let redriven = 0;
    try {
      for (const { seq, letter } of selected) {
        const { message, group } = letter;
        const headers = messageHeaders(message, {
          [HEADER.messageId]: message.id,
          ...(group === undefined ? {} : { [HEADER.group]: group }),
        });
        await session.js.publish(
          names.subject(names.lane(message.key, partitions), message.topic),
          encodeBody(message.body),
          {
            msgID: `redrive:${names.deadStream}:${seq}`,
            headers,
          },
        );
        if (await this.#delete(session, seq)) redriven++;
      }
    } catch (error) {
      throw natsError(this.#connector.address, 'redriving dead letters', error);
    }
    return redriven;
  }

  async purge(filter: DeadLetterFilter = {}): Promise<number> {
    checkDeadLetterFilter(filter, 'deadLetters.purge()');
    const session = await this.#session('purging dead letters');
    const { deadStream } = this.#topology.names;
    try {
      if (
        filter.ids === undefined &&
        filter.group === undefined &&
        filter.topic === undefined &&
        filter.limit === undefined
      ) {
        return (await session.jsm.streams.purge(deadStream)).purged;
      }
      const selected = selectDeadLetters(
        await this.#read('purging dead letters'),
        filter,
        (item) => item.letter,
      );
      let purged = 0;
      for (const { seq } of selected) if (await this.#delete(session, seq)) purged++;
      return purged;
    } catch (error) {
      throw natsError(this.#connector.address, 'purging dead letters', error);
    }
  }

  async #session(doing: string): Promise<Session> {
    const session = await this.#connector.session(doing);
    try {
      await this.#topology.ensureStreams(session);
    } catch (error) {
      throw natsError(this.#connector.address, doing, error);
    }
    return session;
  }

  async #delete(session: Session, seq: number): Promise<boolean> {
    // A letter another process removed meanwhile does not count.
    return session.jsm.streams.deleteMessage(this.#topology.names.deadStream, seq, false).catch(() => false);
  }

  /** Every stored letter, oldest first. */
  async #read(doing: string): Promise<StoredLetter[]> {
    const session = await this.#session(doing);
    const { deadStream } = this.#topology.names;
    try {
      const info = await session.jsm.streams.info(deadStream);
      const total = info.state.messages;
      if (total === 0) return [];
      const consumer = await session.js.consumers.get(deadStream, { deliver_policy: DeliverPolicy.All });
      const letters: StoredLetter[] = [];
      try {
        while (letters.length < total) {
          const batch = await consumer.fetch({
            max_messages: Math.min(FETCH_BATCH, total - letters.length),
            expires: FETCH_EXPIRES_MS,
          });
          let received = 0;
          for await (const message of batch) {
            received++;
            letters.push(parseLetter(message));
          }
          if (received === 0 || info.state.last_seq <= (letters.at(-1)?.seq ?? 0)) break;
        }
      } finally {
        await consumer.delete().catch(() => undefined);
      }
      return letters;
    } catch (error) {
      throw natsError(this.#connector.address, doing, error);
    }
  }
}

function parseLetter(message: JsMsg): StoredLetter {
  const record = message.json<Omit<DeadLetter, 'id'>>();
  return { seq: message.seq, letter: { id: String(message.seq), ...record } };
}

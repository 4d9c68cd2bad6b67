import type { MsgHdrs } from '@nats-io/transport-node';
import { InvalidOptionError, PayloadTooLargeError, type TransportMessage } from '@relaybus/core';
import { checkPublishBatch } from '@relaybus/core/transport-kit';
import { encodeBody, HEADER, headerBytes, messageHeaders } from './codec';
import type { Connector, Session } from './connection';
import { natsError } from './errors';
import { topicProblem } from './names';
import { PubAcks } from './pub-acks';
import type { Topology } from './topology';

const WHERE = 'natsTransport.publish()';
const KNOWN_TOPICS = 10_000;

interface Prepared {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers: MsgHdrs;
  readonly delayed: boolean;
}

/**
 * Publishes batches: every message is checked (shape, topic usable as a subject, size against the server's
 * `max_payload`) before any is sent, then all are published at once (see {@link PubAcks}) and the batch resolves on
 * JetStream's acknowledgements. The message id is the JetStream deduplication id, so publishing a batch again after
 * a timeout stores nothing twice within the stream's two-minute duplicate window.
 */
export class Publisher {
  readonly #connector: Connector;
  readonly #topology: Topology;
  readonly #onDelayed: (session: Session) => Promise<void>;
  readonly #timeoutMs: number;
  readonly #acks = new PubAcks();
  /** The session and partition count once the streams are known to exist. */
  #ready: { readonly session: Session; readonly partitions: number } | undefined;
  /** Topics already checked to be usable as subjects. */
  readonly #topics = new Set<string>();

  constructor(
    connector: Connector,
    topology: Topology,
    timeoutMs: number,
    onDelayed: (session: Session) => Promise<void>,
  ) {
    this.#connector = connector;
    this.#topology = topology;
    this.#timeoutMs = timeoutMs;
    this.#onDelayed = onDelayed;
  }

  /** Fails what still waits for an acknowledgement; call once no publish is in flight any more. */
  close(): void {
    this.#acks.close();
  }

  async publish(messages: ReadonlyArray<TransportMessage>): Promise<void> {
    const problem = checkPublishBatch(messages, WHERE);
    if (problem !== undefined) throw problem;
    messages.forEach((message, index) => {
      if (this.#topics.has(message.topic)) return;
      const why = topicProblem(message.topic);
      if (why !== undefined)
        throw new InvalidOptionError(
          WHERE,
          `messages[${index}].topic`,
          `(${JSON.stringify(message.topic)}) ${why}`,
        );
      if (this.#topics.size >= KNOWN_TOPICS) this.#topics.clear();
      this.#topics.add(message.topic);
    });
    if (messages.length === 0) return;
    const ready = this.#ready;
    if (ready !== undefined && !ready.session.nc.isClosed()) {
      // The common case, with nothing to wait for before sending: no await between publish() and the socket.
      const prepared = this.#prepare(messages, ready.partitions, this.#connector.maxPayload(ready.session));
      if (!prepared.some((message) => message.delayed)) {
        return this.#acks
          .publishAll(ready.session.nc, prepared, this.#timeoutMs)
          .catch((error: unknown) =>
            Promise.reject(natsError(this.#connector.address, describe(messages), error)),
          );
      }
    }
    const doing = describe(messages);
    const session = await this.#connector.session(doing);
    try {
      const partitions = await this.#topology.ensureStreams(session);
      this.#ready = { session, partitions };
      const prepared = this.#prepare(messages, partitions, this.#connector.maxPayload(session));
      if (prepared.some((message) => message.delayed)) await this.#onDelayed(session);
      await this.#acks.publishAll(session.nc, prepared, this.#timeoutMs);
    } catch (error) {
      throw natsError(this.#connector.address, doing, error);
    }
  }

  #prepare(messages: ReadonlyArray<TransportMessage>, partitions: number, maxPayload: number): Prepared[] {
    const { names } = this.#topology;
    const now = Date.now();
    return messages.map((message, index) => {
      const data = encodeBody(message.body);
      const subject = names.subject(names.lane(message.key, partitions), message.topic);
      const delayed = (message.delayMs ?? 0) > 0;
      // The message id is JetStream's deduplication id (Nats-Msg-Id) on both streams.
      const headers = delayed
        ? messageHeaders(message, {
            [HEADER.id]: message.id,
            [HEADER.messageId]: message.id,
            [HEADER.dueAt]: String(now + (message.delayMs ?? 0)),
            [HEADER.target]: subject,
          })
        : messageHeaders(message, { [HEADER.id]: message.id });
      // Exact header bytes only when a cheap upper bound (UTF-8 is at most 3 bytes per UTF-16 unit) is over the limit.
      const text = message.id.length * 2 + (message.key?.length ?? 0) + subject.length;
      const bound = data.length + 3 * text + 200;
      const sizeBytes = bound <= maxPayload ? 0 : data.length + headerBytes(headers);
      if (sizeBytes > maxPayload) {
        throw new PayloadTooLargeError(
          'nats',
          { id: message.id, index, sizeBytes },
          maxPayload,
          "raise max_payload in the nats-server configuration (the limit is the server's, headers included)",
        );
      }
      return { subject: delayed ? names.delayedSubject : subject, data, headers, delayed };
    });
  }
}

function describe(messages: ReadonlyArray<TransportMessage>): string {
  return `publishing ${messages.length} message${messages.length === 1 ? '' : 's'}`;
}

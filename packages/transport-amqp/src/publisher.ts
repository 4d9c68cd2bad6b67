import {
  InvalidOptionError,
  PayloadTooLargeError,
  TransportError,
  type TransportMessage,
} from '@relaybus/core';
import { checkPublishBatch } from '@relaybus/core/transport-kit';
import type { ChannelModel, ConfirmChannel, Options } from 'amqplib';
import { encodeBody, HEADER, publishOptions } from './codec';
import type { AmqpConnection } from './connection';
import { amqpError, connectionLost } from './errors';
import type { Names } from './names';
import type { ResolvedOptions } from './options';
import type { Topology } from './topology';

/** One message to send: where, and what. */
export interface Send {
  readonly exchange: string;
  readonly routingKey: string;
  readonly content: Buffer;
  readonly options: Options.Publish;
}

const WHERE = 'amqpTransport.publish()';

/**
 * Publishes on one confirm channel: a batch resolves once the broker confirmed every message of it (stored in every
 * queue it routes to, on disk for durable queues). A message no queue is bound for is confirmed and dropped, as
 * nobody has subscribed to its topic yet.
 */
export class Publisher {
  readonly #connection: AmqpConnection;
  readonly #topology: Topology;
  readonly #names: Names;
  readonly #options: ResolvedOptions;
  #model: ChannelModel | undefined;
  #channel: Promise<ConfirmChannel> | undefined;
  /** The confirm channel once open, for publishing without waiting a turn. */
  #open: ConfirmChannel | undefined;
  readonly #pending = new Set<{ readonly deadline: number; readonly expire: () => void }>();
  #sweeper: ReturnType<typeof setInterval> | undefined;

  constructor(connection: AmqpConnection, topology: Topology, names: Names, options: ResolvedOptions) {
    this.#connection = connection;
    this.#topology = topology;
    this.#names = names;
    this.#options = options;
  }

  /** Checks and encodes a batch (nothing is sent when one message is bad), then sends it with confirms. */
  async publish(messages: ReadonlyArray<TransportMessage>): Promise<void> {
    const problem = checkPublishBatch(messages, WHERE);
    if (problem !== undefined) throw problem;
    const contents = messages.map((message, index) => this.#encode(message, index));
    if (messages.length === 0) return;
    if (!this.#topology.baseDeclared || this.#connection.current !== this.#model) await this.#topology.base();
    const sends: Send[] = [];
    for (const [index, message] of messages.entries()) {
      const content = contents[index] as Buffer;
      const keyed = message.key !== undefined;
      if (message.delayMs !== undefined && message.delayMs > 0) {
        const target = keyed ? 'keyed' : 'unkeyed';
        const bucket = await this.#topology.delayQueue(target, message.delayMs);
        const headers = { [HEADER.delay]: `${target}.${bucket}` };
        sends.push({
          exchange: this.#names.delay,
          routingKey: message.topic,
          content,
          options: publishOptions(message, headers),
        });
      } else {
        sends.push({
          exchange: keyed ? this.#names.keyed : this.#names.unkeyed,
          routingKey: message.topic,
          content,
          options: publishOptions(message),
        });
      }
    }
    await this.send(sends, `publishing ${messages.length} message(s)`);
  }

  /** Sends messages with publisher confirms; resolves when the broker confirmed every one. */
  async send(sends: ReadonlyArray<Send>, doing: string): Promise<void> {
    const address = this.#connection.address;
    let channel = this.#open;
    if (channel === undefined || this.#connection.current !== this.#model) {
      try {
        channel = await this.#confirmChannel();
      } catch (error) {
        throw amqpError(address, doing, error);
      }
    }
    const confirms: Array<Promise<void>> = [];
    for (const send of sends) {
      let writable = true;
      confirms.push(
        new Promise<void>((resolve, reject) => {
          const confirmed = (error: unknown): void => {
            if (error === null || error === undefined) {
              resolve();
              return;
            }
            reject(
              /nack/i.test(String((error as Error).message ?? error))
                ? new TransportError(
                    'amqp',
                    `the broker refused message ${JSON.stringify(send.options.messageId)} while ${doing} (negative confirm: a queue it routes to refused it, or the broker failed to store it); it may be retried`,
                  )
                : connectionLost(address, doing),
            );
          };
          try {
            writable = channel.publish(send.exchange, send.routingKey, send.content, send.options, confirmed);
          } catch (error) {
            reject(amqpError(address, doing, error));
          }
        }),
      );
      if (!writable) await drained(channel);
    }
    await this.#within(Promise.all(confirms), doing);
  }

  /** Closes the confirm channel (after its confirms arrived). */
  async close(): Promise<void> {
    const channel = this.#channel;
    this.#channel = undefined;
    this.#open = undefined;
    await channel?.then((open) => open.close()).catch(() => undefined);
  }

  #encode(message: TransportMessage, index: number): Buffer {
    const content = encodeBody(message.body);
    if (content === undefined) {
      throw new InvalidOptionError(
        WHERE,
        `messages[${index}].body`,
        'has no JSON form (a function, a BigInt or a cycle)',
      );
    }
    if (content.length > this.#options.maxPayloadBytes) {
      throw new PayloadTooLargeError(
        'amqp',
        { id: message.id, index, sizeBytes: content.length },
        this.#options.maxPayloadBytes,
        'raise maxPayloadBytes (RabbitMQ itself accepts up to its max_message_size, 128 MiB by default)',
      );
    }
    return content;
  }

  /**
   * Rejects `confirms` with a timeout error after `publishTimeoutMs`. One sweep timer serves every batch in flight
   * (a timer per batch would cost more than the publish itself when the bus publishes event by event).
   */
  #within(confirms: Promise<unknown>, doing: string): Promise<void> {
    const limitMs = this.#options.publishTimeoutMs;
    return new Promise<void>((resolve, reject) => {
      const pending = {
        deadline: Date.now() + limitMs,
        expire: () =>
          reject(
            new TransportError(
              'amqp',
              `the broker did not confirm within ${limitMs} ms while ${doing} (is it blocked by a resource alarm?); the messages may still be stored, so a retry can duplicate them`,
            ),
          ),
      };
      this.#pending.add(pending);
      this.#sweeper ??= setInterval(() => this.#sweep(), Math.min(1_000, limitMs));
      const settle = (): void => {
        this.#pending.delete(pending);
        if (this.#pending.size === 0 && this.#sweeper !== undefined) {
          clearInterval(this.#sweeper);
          this.#sweeper = undefined;
        }
      };
      confirms.then(
        () => {
          settle();
          resolve();
        },
        (error: unknown) => {
          settle();
          reject(error);
        },
      );
    });
  }

  #sweep(): void {
    const now = Date.now();
    for (const pending of this.#pending) {
      if (pending.deadline > now) continue;
      this.#pending.delete(pending);
      pending.expire();
    }
  }

  async #confirmChannel(): Promise<ConfirmChannel> {
    const model = await this.#connection.get();
    if (model !== this.#model) {
      this.#model = model;
      this.#channel = undefined;
      this.#open = undefined;
    }
    if (this.#channel === undefined) {
      const opening = model.createConfirmChannel();
      this.#channel = opening;
      const forget = (): void => {
        if (this.#channel !== opening) return;
        this.#channel = undefined;
        this.#open = undefined;
      };
      opening.then((channel) => {
        channel.on('error', () => undefined);
        channel.on('close', forget);
        if (this.#channel === opening) this.#open = channel;
      }, forget);
    }
    return this.#channel;
  }
}

/** Waits until the channel's write buffer drained (or it closed: the confirms then fail on their own). */
function drained(channel: ConfirmChannel): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      channel.off('drain', done);
      channel.off('close', done);
      resolve();
    };
    channel.on('drain', done);
    channel.on('close', done);
  });
}

import type { DeadLetterInput, Delivery, TransportSubscription } from '@relaybus/core';
import {
  invokeHandler,
  KeyedDispatcher,
  type ResolvedTransportSubscribeOptions,
  SubscriptionHandle,
} from '@relaybus/core/transport-kit';
import type { Channel, ConsumeMessage } from 'amqplib';
import { carriedHeaders, decodeMessage, HEADER, publishOptions } from '../codec';
import { amqpError } from '../errors';
import type { Publisher } from '../publisher';
import { AmqpDelivery, type Lane, type Settler } from './amqp-delivery';
import { type ConsumerContext, settle, TakenBackError } from './consumer-context';

const REOPEN_FIRST_MS = 200;
const REOPEN_MAX_MS = 5_000;

/**
 * One subscription: a channel with a consumer on each of its queues (a group's quorum queues per selector, or one
 * exclusive queue of its own without a group), feeding a keyed dispatcher. When the channel or the connection is
 * lost, in-flight deliveries are taken back (the broker redelivers them) and the subscription opens a new channel
 * and consumes again by itself.
 */
export class AmqpSubscription implements Settler {
  readonly handle: TransportSubscription;
  readonly #context: ConsumerContext;
  readonly #spec: ResolvedTransportSubscribeOptions;
  readonly #handler: (delivery: Delivery) => void | Promise<void>;
  readonly #selectors: ReadonlyArray<string>;
  readonly #onClosed: (subscription: AmqpSubscription) => void;
  #lane: Lane | undefined;
  #closing = false;
  #reopening = false;
  #unlisten: () => void = () => undefined;

  constructor(
    context: ConsumerContext,
    spec: ResolvedTransportSubscribeOptions & { readonly signal?: AbortSignal | undefined },
    handler: (delivery: Delivery) => void | Promise<void>,
    onClosed: (subscription: AmqpSubscription) => void,
  ) {
    this.#context = context;
    this.#spec = spec;
    this.#handler = handler;
    this.#onClosed = onClosed;
    // A topic the pattern covers would reach a group twice (through two queues): the pattern's queue has it.
    const { match, pattern } = spec;
    this.#selectors = [
      ...spec.topics.filter((topic) => match === undefined || !match(topic)),
      ...(pattern === undefined ? [] : [pattern]),
    ];
    this.handle = new SubscriptionHandle({
      where: 'subscription.close()',
      close: (timeoutMs) => this.#close(timeoutMs),
      ...(spec.signal === undefined ? {} : { signal: spec.signal }),
    });
  }

  /** Declares the queues and starts consuming; resolves once the broker registered every consumer. */
  async start(): Promise<void> {
    this.#unlisten = this.#context.connection.listen({
      // Only a lane that was lost is reopened: the first connection comes up inside `#open` itself.
      up: () => {
        if (this.#lane !== undefined && !this.#lane.live) void this.#reopen();
      },
      down: () => this.#drop('the connection to the broker was lost'),
    });
    try {
      await this.#open();
    } catch (error) {
      this.#closing = true;
      this.#unlisten();
      this.#drop('subscribing failed');
      throw amqpError(this.#context.connection.address, 'subscribing', error);
    }
  }

  ack(delivery: AmqpDelivery): void {
    const { lane } = delivery;
    settle(lane, () => lane.channel.ack(delivery.raw));
    lane.dispatcher.finish(delivery);
  }

  nack(delivery: AmqpDelivery, delayMs: number): void | Promise<void> {
    if (delayMs === 0) {
      delivery.lane.dispatcher.finish(delivery, delivery.next());
      return;
    }
    return this.#retryLater(delivery, delayMs);
  }

  async deadLetter(delivery: AmqpDelivery, input: DeadLetterInput): Promise<void> {
    const group = this.#spec.group;
    const letter = this.#context.deadLetters.letterOf({
      raw: delivery.raw,
      group,
      queue: group === undefined ? undefined : delivery.queue,
      input,
      attempts: delivery.attempt,
      firstAttemptAt: delivery.firstAttemptAt,
      lastAttemptAt: delivery.startedAt,
    });
    await this.#republish(delivery, [letter], 'dead-lettering a message');
  }

  /** Publishes a retry copy through the delay queue of its bucket, back to the queue it came from. */
  async #retryLater(delivery: AmqpDelivery, delayMs: number): Promise<void> {
    const { topology, names } = this.#context;
    let bucket: number;
    try {
      bucket = await topology.delayQueue('retry', delayMs);
    } catch (error) {
      this.#settleFailed(delivery, error, 'scheduling a retry');
      return;
    }
    const headers = {
      ...carriedHeaders(delivery.raw),
      [HEADER.delay]: `retry.${bucket}`,
      [HEADER.attempts]: delivery.attempt,
      [HEADER.firstAttemptAt]: delivery.firstAttemptAt,
    };
    const send = {
      exchange: names.delay,
      routingKey: delivery.queue,
      content: delivery.raw.content,
      options: publishOptions(delivery.message, headers),
    };
    await this.#republish(delivery, [send], 'scheduling a retry');
  }

  /** Sends copies with confirms, then acks the original; on failure leaves it for the broker to hand out again. */
  async #republish(
    delivery: AmqpDelivery,
    sends: Parameters<Publisher['send']>[0],
    doing: string,
  ): Promise<void> {
    try {
      await this.#context.publisher.send(sends, doing);
    } catch (error) {
      this.#settleFailed(delivery, error, doing);
      return;
    }
    this.ack(delivery);
  }

  #settleFailed(delivery: AmqpDelivery, error: unknown, doing: string): void {
    this.#context.logger.warn(`amqp transport: ${doing} failed; the message is handed out again`, { error });
    const { lane } = delivery;
    settle(lane, () => lane.channel.nack(delivery.raw, false, true));
    lane.dispatcher.finish(delivery);
  }

  async #open(): Promise<void> {
    const { connection, topology, options } = this.#context;
    const model = await connection.get();
    await topology.base();
    const channel = await model.createChannel();
    const dispatcher = new KeyedDispatcher<AmqpDelivery>(
      {
        handle: (delivery) => this.#run(delivery),
        expired: (delivery) => {
          if (delivery.takeBack(new TakenBackError('its visibility timeout ran out'))) {
            delivery.lane.dispatcher.finish(delivery, delivery.next());
          }
        },
      },
      { concurrency: this.#spec.concurrency, visibilityTimeoutMs: this.#spec.visibilityTimeoutMs },
    );
    const lane: Lane = { channel, dispatcher, live: true };
    channel.on('error', (error: unknown) =>
      this.#context.logger.warn('amqp transport: consumer channel error', { error }),
    );
    channel.on('close', () => this.#channelClosed(lane));
    this.#lane?.channel.close().catch(() => undefined);
    this.#lane = lane;
    await channel.prefetch(options.prefetch);
    const queues = await this.#queues(channel);
    for (const queue of queues) {
      await channel.consume(queue, (raw) => this.#receive(lane, queue, raw));
    }
    if (this.#closing) throw new Error('closed while subscribing');
  }

  async #queues(channel: Channel): Promise<string[]> {
    const { topology, names } = this.#context;
    const group = this.#spec.group;
    if (group !== undefined) {
      const queues: string[] = [];
      for (const selector of this.#selectors) {
        const { ordered, shared } = await topology.group(group, selector);
        if (ordered !== undefined) queues.push(ordered);
        queues.push(shared);
      }
      return queues;
    }
    const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true, durable: false });
    for (const selector of this.#selectors) {
      await channel.bindQueue(queue, names.unkeyed, selector);
      await channel.bindQueue(queue, names.keyed, selector);
    }
    return [queue];
  }

  #receive(lane: Lane, queue: string, raw: ConsumeMessage | null): void {
    if (raw === null) {
      // The broker cancelled the consumer (its queue was deleted): start over, declaring the queue again.
      if (lane.live) lane.channel.close().catch(() => undefined);
      return;
    }
    if (!lane.live) return;
    const received = decodeMessage(raw);
    const attempt = received.priorAttempts + received.redeliveries + 1;
    const delivery = new AmqpDelivery(received.message, attempt, received.firstAttemptAt, {
      raw,
      queue,
      lane,
      settler: this,
    });
    lane.dispatcher.push(delivery);
  }

  #run(delivery: AmqpDelivery): void {
    invokeHandler(this.#handler, delivery, (error, failed) => {
      try {
        this.#context.options.onError?.(error, failed);
      } catch {
        // an onError that throws must not stop the consumer
      }
      if (failed.inFlight) void Promise.resolve(failed.nack()).catch(() => undefined);
    });
  }

  #channelClosed(lane: Lane): void {
    if (!lane.live) return;
    this.#drop('its channel was closed');
    // A channel can close while the connection stays (the broker refused an operation): open another.
    if (this.#context.connection.current !== undefined) void this.#reopen();
  }

  /** Takes back everything of the current lane: its delivery tags are void, and the broker hands the messages out again. */
  #drop(why: string): void {
    const lane = this.#lane;
    if (lane === undefined || !lane.live) return;
    lane.live = false;
    lane.dispatcher.close();
    for (const delivery of [...lane.dispatcher.inflight]) {
      delivery.takeBack(new TakenBackError(`${why}; the broker hands the message out again`));
      lane.dispatcher.finish(delivery);
    }
    lane.channel.close().catch(() => undefined);
  }

  async #reopen(): Promise<void> {
    if (this.#reopening || this.#closing) return;
    this.#reopening = true;
    try {
      for (let wait = REOPEN_FIRST_MS; !this.#closing; wait = Math.min(wait * 2, REOPEN_MAX_MS)) {
        if (this.#lane?.live === true) return;
        try {
          await this.#open();
          this.#context.logger.info('amqp transport: consuming again', { group: this.#spec.group });
          return;
        } catch (error) {
          this.#drop('consuming again failed');
          if (this.#context.connection.current === undefined) return; // the reconnect will call us again
          this.#context.logger.warn('amqp transport: consuming again failed; retrying', { error });
          await new Promise((resolve) => setTimeout(resolve, wait));
        }
      }
    } finally {
      this.#reopening = false;
    }
  }

  async #close(timeoutMs: number): Promise<void> {
    this.#closing = true;
    this.#unlisten();
    const lane = this.#lane;
    try {
      if (lane?.live) {
        // Stop handing out, and keep the consumers: cancelling one on an ordered queue would make another member
        // active while this one still works on older messages of the same keys.
        lane.dispatcher.close();
        if (!(await lane.dispatcher.whenIdle(timeoutMs))) this.#drop('the subscription closed');
        lane.live = false;
        // Closing the channel hands every unacknowledged message back to the broker, before another consumer of
        // an ordered queue becomes active.
        await lane.channel.close().catch(() => undefined);
      }
    } finally {
      this.#onClosed(this);
    }
  }
}

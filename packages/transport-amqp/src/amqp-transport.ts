import {
  ClosedError,
  consoleLogger,
  type Delivery,
  type GroupDeclaration,
  InvalidOptionError,
  type Transport,
  type TransportCapabilities,
  type TransportMessage,
  type TransportSubscribeOptions,
  type TransportSubscription,
} from '@relaybus/core';
import {
  Closer,
  resolveGroupDeclaration,
  resolveTransportSubscribeOptions,
} from '@relaybus/core/transport-kit';
import { AmqpConnection } from './connection';
import { AmqpSubscription } from './consumer/amqp-subscription';
import type { ConsumerContext } from './consumer/consumer-context';
import { AmqpDeadLetters } from './dead-letters';
import { Names } from './names';
import { type AmqpTransportOptions, DEFAULTS, type ResolvedOptions, resolveOptions } from './options';
import { Publisher } from './publisher';
import { Topology } from './topology';

/**
 * Creates the RabbitMQ transport (AMQP 0-9-1, on amqplib): events go to a topic exchange with the event type as
 * routing key; each consumer group keeps its messages in quorum queues (at least once, a delivery limit, a
 * dead-letter queue), keyed messages in order through a single active consumer; subscribers without a group get an
 * exclusive queue of their own. Publishing waits for publisher confirms; delays use per-delay queues with a message
 * TTL that dead-letter back (no plugin needed).
 *
 * Nothing is sent to the broker until the first `publish`, `subscribe` or `declareGroup`; when it cannot be reached
 * within `connectTimeoutMs` those reject with a `TransportUnavailableError` naming `host:port` (the bus retries
 * subscriptions after it). A connection made from `url` is reconnected after a drop, with the topology declared
 * again and consumers resumed; a `connection` you pass stays yours.
 *
 * @throws `InvalidOptionError` naming the option, such as a missing `url` or a malformed exchange name.
 * @example
 * ```ts
 * import { amqpTransport } from '@relaybus/transport-amqp';
 *
 * const transport = amqpTransport({ url: 'amqp://guest:guest@127.0.0.1:5672', exchange: 'tasks' });
 * await transport.declareGroup({ group: 'mailer', topics: ['task.created'] });
 * await transport.subscribe({ topics: ['task.created'], group: 'mailer', concurrency: 8 }, async (delivery) => {
 *   await sendMail(delivery.message.body);
 *   await delivery.ack();
 * });
 * await transport.publish([{ id: '1', topic: 'task.created', key: 'task-1', body: { taskId: 'task-1' } }]);
 * await transport.close();
 * ```
 */
export function amqpTransport(options: AmqpTransportOptions): Transport {
  return new AmqpTransport(resolveOptions(options));
}

class AmqpTransport implements Transport {
  readonly name = 'amqp';
  readonly capabilities: TransportCapabilities;
  readonly deadLetters: AmqpDeadLetters;
  readonly #context: ConsumerContext;
  readonly #subscriptions = new Set<AmqpSubscription>();
  readonly #publishing = new Set<Promise<void>>();
  readonly #closer: Closer;

  constructor(options: ResolvedOptions) {
    this.capabilities = Object.freeze({
      durable: true,
      groups: true,
      delay: true,
      orderedByKey: options.orderedByKey,
    });
    const logger = options.logger ?? consoleLogger;
    const names = new Names(options.exchange);
    const connection = new AmqpConnection(options, logger);
    const topology = new Topology(connection, names, options);
    const publisher = new Publisher(connection, topology, names, options);
    this.deadLetters = new AmqpDeadLetters({ connection, topology, publisher, names }, options.deliveryLimit);
    this.#context = {
      connection,
      topology,
      publisher,
      deadLetters: this.deadLetters,
      names,
      options,
      logger,
    };
    // Last: an aborted signal closes at once, which needs every other field.
    this.#closer = new Closer({
      where: 'amqpTransport.close()',
      defaultTimeoutMs: DEFAULTS.closeTimeoutMs,
      close: (timeoutMs) => this.#shutdown(timeoutMs),
      signal: options.signal,
    });
  }

  publish(messages: ReadonlyArray<TransportMessage>): Promise<void> {
    if (this.#closer.closed) return Promise.reject(new ClosedError('the amqp transport', 'publish'));
    const published = this.#context.publisher.publish(messages);
    this.#publishing.add(published);
    const forget = (): void => {
      this.#publishing.delete(published);
    };
    published.then(forget, forget);
    return published;
  }

  async subscribe(
    options: TransportSubscribeOptions,
    handler: (delivery: Delivery) => void | Promise<void>,
  ): Promise<TransportSubscription> {
    if (this.#closer.closed) throw new ClosedError('the amqp transport', 'subscribe');
    if (typeof handler !== 'function') {
      throw new InvalidOptionError('amqpTransport.subscribe()', 'handler', 'must be a function');
    }
    const spec = resolveTransportSubscribeOptions('amqpTransport.subscribe()', options);
    const subscription = new AmqpSubscription(
      this.#context,
      { ...spec, signal: options.signal },
      handler,
      (closed) => this.#subscriptions.delete(closed),
    );
    this.#subscriptions.add(subscription);
    await subscription.start();
    return subscription.handle;
  }

  /**
   * Declares the group's queues for its topics and pattern (bound to the exchange), so that they keep every message
   * published from then on. RabbitMQ cannot replay what was published before a queue existed: a new group starts
   * at the latest message whatever `startFrom` says, and an existing one keeps its backlog.
   */
  async declareGroup(declaration: GroupDeclaration): Promise<void> {
    if (this.#closer.closed) throw new ClosedError('the amqp transport', 'declareGroup');
    const { group, topics, pattern, match } = resolveGroupDeclaration(
      'amqpTransport.declareGroup()',
      declaration,
    );
    const selectors = [
      ...topics.filter((topic) => match === undefined || !match(topic)),
      ...(pattern === undefined ? [] : [pattern]),
    ];
    for (const selector of selectors) await this.#context.topology.group(group, selector);
  }

  close(options?: { readonly timeoutMs?: number }): Promise<void> {
    return this.#closer.close(options);
  }

  async #shutdown(timeoutMs: number): Promise<void> {
    await Promise.all(
      [...this.#subscriptions].map((subscription) => subscription.handle.close({ timeoutMs })),
    );
    await Promise.allSettled([...this.#publishing]);
    const { publisher, topology, connection } = this.#context;
    await publisher.close();
    await topology.close();
    await connection.close();
  }
}

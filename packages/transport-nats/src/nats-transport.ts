import {
  ClosedError,
  consoleLogger,
  type Delivery,
  type GroupDeclaration,
  InvalidOptionError,
  InvalidPatternError,
  type Logger,
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
  SubscriptionHandle,
} from '@relaybus/core/transport-kit';
import { Connector } from './connection';
import { type ConsumerContext, FirstAttempts } from './consumer/consumer-context';
import { filterSpecs } from './consumer/filters';
import { NatsSubscription } from './consumer/nats-subscription';
import { NatsDeadLetters } from './dead-letters';
import { DelayMover } from './delay-mover';
import { natsError } from './errors';
import { MaxDeliveriesWatcher } from './max-deliveries';
import { Names, topicProblem } from './names';
import { DEFAULTS, type NatsTransportOptions, type ResolvedOptions, resolveOptions } from './options';
import { Publisher } from './publisher';
import { Topology } from './topology';

const CAPABILITIES: TransportCapabilities = Object.freeze({
  durable: true,
  groups: true,
  delay: true,
  orderedByKey: true,
});

/**
 * Creates the NATS JetStream transport (NATS server 2.9 or later, with JetStream): one stream per prefix holding
 * every topic under `<prefix>.<lane>.<topic>`, durable pull consumers per group with explicit acks, per-key order
 * through partition subjects, ordered consumers for subscribers without a group, delays, dead letters in their own
 * stream, and pattern subscriptions mapped to NATS wildcards.
 *
 * Nothing is sent to NATS until the first `publish`, `subscribe` or `declareGroup`; when the server cannot be reached
 * those reject with a `TransportUnavailableError` naming the address (the bus retries subscriptions after it). A
 * connection the transport opened from `servers` reconnects forever and is closed by `close()`; your `connection`
 * stays open.
 *
 * @throws `InvalidOptionError` when an option is invalid, such as a prefix that cannot be a subject token.
 * @example
 * ```ts
 * import { natsTransport } from '@relaybus/transport-nats';
 *
 * const transport = natsTransport({ servers: process.env.NATS_URL ?? '127.0.0.1:4222', prefix: 'tasks' });
 * await transport.declareGroup({ group: 'mailer', topics: ['task.created'] });
 * await transport.subscribe({ topics: ['task.created'], group: 'mailer', concurrency: 8 }, async (delivery) => {
 *   await sendMail(delivery.message.body);
 *   await delivery.ack();
 * });
 * await transport.publish([{ id: '1', topic: 'task.created', key: 'task-1', body: { taskId: 'task-1' } }]);
 * await transport.close();
 * ```
 */
export function natsTransport(options: NatsTransportOptions): Transport {
  return new NatsTransport(resolveOptions(options));
}

class NatsTransport implements Transport {
  readonly name = 'nats';
  readonly capabilities: TransportCapabilities = CAPABILITIES;
  readonly deadLetters: NatsDeadLetters;
  readonly #connector: Connector;
  readonly #topology: Topology;
  readonly #publisher: Publisher;
  readonly #mover: DelayMover;
  readonly #maxDeliveries: MaxDeliveriesWatcher;
  readonly #context: ConsumerContext;
  readonly #subscriptions = new Set<SubscriptionHandle>();
  readonly #publishing = new Set<Promise<void>>();
  readonly #closer: Closer;
  #flushing: Promise<void> | undefined;

  constructor(options: ResolvedOptions) {
    const logger: Logger = options.logger ?? consoleLogger;
    this.#connector = new Connector(options);
    this.#topology = new Topology(new Names(options.prefix, options.stream), options);
    this.deadLetters = new NatsDeadLetters(this.#connector, this.#topology);
    this.#mover = new DelayMover(this.#topology, logger);
    this.#maxDeliveries = new MaxDeliveriesWatcher(this.#topology, this.deadLetters, logger);
    this.#publisher = new Publisher(this.#connector, this.#topology, options.timeoutMs, (session) =>
      this.#mover.start(session),
    );
    this.#context = {
      connector: this.#connector,
      topology: this.#topology,
      deadLetters: this.deadLetters,
      options,
      logger,
      firstAttempts: new FirstAttempts(),
      flushSoon: () => this.#flushSoon(),
    };
    // Last: an aborted signal closes at once, which needs every other field.
    this.#closer = new Closer({
      where: 'natsTransport.close()',
      defaultTimeoutMs: DEFAULTS.closeTimeoutMs,
      close: (timeoutMs) => this.#shutdown(timeoutMs),
      signal: options.signal,
    });
  }

  publish(messages: ReadonlyArray<TransportMessage>): Promise<void> {
    if (this.#closer.closed) return Promise.reject(new ClosedError('the nats transport', 'publish'));
    const published = this.#publisher.publish(messages);
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
    if (this.#closer.closed) throw new ClosedError('the nats transport', 'subscribe');
    const where = 'natsTransport.subscribe()';
    if (typeof handler !== 'function') throw new InvalidOptionError(where, 'handler', 'must be a function');
    const spec = resolveTransportSubscribeOptions(where, options);
    checkTopics(where, spec.topics, spec.pattern);
    const session = await this.#connector.session('subscribing');
    const subscription = new NatsSubscription(this.#context, spec, handler);
    try {
      await subscription.start(session);
      await this.#mover.start(session);
      if (spec.group !== undefined) this.#maxDeliveries.start(session);
    } catch (error) {
      await subscription.close(0);
      throw natsError(this.#connector.address, 'subscribing', error);
    }
    const handle: SubscriptionHandle = new SubscriptionHandle({
      where: 'subscription.close()',
      defaultTimeoutMs: DEFAULTS.closeTimeoutMs,
      close: async (timeoutMs) => {
        try {
          await subscription.close(timeoutMs);
        } finally {
          this.#subscriptions.delete(handle);
        }
      },
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    if (this.#closer.closed) {
      // The transport began closing while this subscription was being set up: it is not left running.
      await handle.close({ timeoutMs: 0 });
      throw new ClosedError('the nats transport', 'subscribe');
    }
    if (!handle.closed) this.#subscriptions.add(handle);
    return handle;
  }

  /**
   * Creates the group's durable consumers on every lane of its topics and pattern (a pattern's consumers cover
   * topics first published later by their NATS wildcard filter). A new group starts at the first retained message
   * (`'earliest'`) or at the next one (`'latest'`); an existing one keeps its position.
   */
  async declareGroup(declaration: GroupDeclaration): Promise<void> {
    if (this.#closer.closed) throw new ClosedError('the nats transport', 'declareGroup');
    const where = 'natsTransport.declareGroup()';
    const resolved = resolveGroupDeclaration(where, declaration);
    checkTopics(where, resolved.topics, resolved.pattern);
    const doing = `declaring group "${resolved.group}"`;
    const session = await this.#connector.session(doing);
    try {
      const partitions = await this.#topology.ensureStreams(session);
      const consumers = this.#topology.groupConsumers(resolved.group, filterSpecs(resolved), partitions);
      await this.#topology.ensureGroup(session, resolved.group, consumers, resolved.startFrom);
    } catch (error) {
      throw natsError(this.#connector.address, doing, error);
    }
  }

  close(options?: { readonly timeoutMs?: number }): Promise<void> {
    return this.#closer.close(options);
  }

  async #shutdown(timeoutMs: number): Promise<void> {
    await Promise.all([...this.#subscriptions].map((subscription) => subscription.close({ timeoutMs })));
    await Promise.allSettled([...this.#publishing]);
    this.#publisher.close();
    await this.#mover.stop();
    this.#maxDeliveries.stop();
    await this.#connector.close();
  }

  /** One flush per event-loop turn for every ack and nak sent in it. */
  #flushSoon(): Promise<void> {
    this.#flushing ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      this.#flushing = undefined;
      return this.#connector.flush();
    });
    return this.#flushing;
  }
}

/** Topics and pattern words must be usable in NATS subjects (the pattern's `*` and `#` are relaybus wildcards). */
function checkTopics(where: string, topics: ReadonlyArray<string>, pattern: string | undefined): void {
  topics.forEach((topic, index) => {
    const why = topicProblem(topic);
    if (why !== undefined)
      throw new InvalidOptionError(where, `topics[${index}]`, `(${JSON.stringify(topic)}) ${why}`);
  });
  if (pattern === undefined) return;
  const literal = pattern
    .split('.')
    .map((word) => (word === '*' || word === '#' ? 'w' : word))
    .join('.');
  const why = topicProblem(literal);
  if (why !== undefined) throw new InvalidPatternError(pattern, why);
}

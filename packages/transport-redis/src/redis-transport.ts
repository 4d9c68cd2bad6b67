import { randomUUID } from 'node:crypto';
import type { JobBackend } from '@relaybus/core';
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
import { Closer, SubscriptionHandle } from '@relaybus/core/transport-kit';
import { whenReady } from './connection';
import type { ConsumerContext } from './consumer/consumer-context';
import { createGroups } from './consumer/group-setup';
import { RedisSubscription } from './consumer/redis-subscription';
import { ControlChannel } from './control-channel';
import { RedisDeadLetters } from './dead-letters';
import { IncompatibleClientError, RedisUnavailableError } from './errors';
import { redisJobBackend } from './jobs/redis-job-backend';
import { EPHEMERAL_GROUP_PREFIX, KeySpace } from './names';
import { operationError } from './operation-error';
import { DEFAULTS, type RedisTransportOptions, type ResolvedOptions, resolveOptions } from './options';
import { Publisher } from './publisher';
import { reportIncompatible } from './report-incompatible';
import { resolveDeclaration, resolveSubscribeOptions } from './subscribe-options';
import { TopicRegistry } from './topic-registry';

const CAPABILITIES: TransportCapabilities = Object.freeze({
  durable: true,
  groups: true,
  delay: true,
  orderedByKey: true,
});

/**
 * Creates the Redis Streams transport on your ioredis client (5 or 6; standalone or Cluster): consumer groups with
 * batched reads and per-message acks, groups declared ahead of their workers, per-key order through fenced partition
 * leases, redelivery after the visibility timeout with attempt counts, delays, dead letters, retention and pattern
 * subscriptions.
 *
 * It also carries relaybus's job queue: `transport.jobBackend()` returns one {@link redisJobBackend} on the same client
 * and prefix, which `createJobQueue({ transport })` takes.
 *
 * Nothing is sent to Redis until the first `publish`, `subscribe` or `declareGroup`; when Redis cannot be reached
 * within `connectTimeoutMs` those reject with a {@link RedisUnavailableError} naming the address (code
 * `TRANSPORT_UNAVAILABLE`: the bus retries subscriptions after it). `close()` never quits your client.
 *
 * @throws `InvalidOptionError` when an option is invalid, such as a prefix with characters that would break key
 * naming; {@link IncompatibleClientError} for a client that is not ioredis 5 or 6, or has a `keyPrefix`.
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { redisTransport } from '@relaybus/transport-redis';
 *
 * const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
 * const transport = redisTransport({ redis, prefix: 'tasks' });
 * await transport.declareGroup({ group: 'mailer', topics: ['task.created'] });
 * await transport.subscribe({ topics: ['task.created'], group: 'mailer', concurrency: 8 }, async (delivery) => {
 *   await sendMail(delivery.message.body);
 *   await delivery.ack();
 * });
 * await transport.publish([{ id: '1', topic: 'task.created', key: 'task-1', body: { taskId: 'task-1' } }]);
 * await transport.close();
 * await redis.quit();
 * ```
 */
export function redisTransport(options: RedisTransportOptions): Transport {
  return new RedisTransport(resolveOptions(options));
}

class RedisTransport implements Transport {
  readonly name = 'redis';
  readonly capabilities: TransportCapabilities = CAPABILITIES;
  readonly deadLetters: RedisDeadLetters;
  readonly #options: ResolvedOptions;
  readonly #keys: KeySpace;
  readonly #registry: TopicRegistry;
  readonly #publisher: Publisher;
  readonly #control: ControlChannel;
  readonly #subscriptions = new Set<RedisSubscription>();
  readonly #publishing = new Set<Promise<void>>();
  readonly #closer: Closer;
  #jobs: JobBackend | undefined;

  constructor(options: ResolvedOptions) {
    this.#options = options;
    const { redis, prefix } = options;
    this.#keys = new KeySpace(prefix);
    this.#registry = new TopicRegistry(redis, this.#keys, options.partitions);
    this.deadLetters = new RedisDeadLetters(redis, this.#keys, this.#registry);
    this.#publisher = new Publisher(redis, this.#keys, this.#registry, options);
    this.#control = new ControlChannel(redis, this.#keys.channel, options.logger ?? consoleLogger);
    // Last: an aborted signal closes at once, which needs every other field.
    this.#closer = new Closer({
      where: 'redisTransport.close()',
      defaultTimeoutMs: DEFAULTS.closeTimeoutMs,
      close: (timeoutMs) => this.#shutdown(timeoutMs),
      signal: options.signal,
    });
  }

  publish(messages: ReadonlyArray<TransportMessage>): Promise<void> {
    if (this.#closer.closed) return Promise.reject(new ClosedError('the redis transport', 'publish'));
    let published: Promise<void>;
    try {
      published = this.#publisher.publish(messages);
    } catch (error) {
      return Promise.reject(error);
    }
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
    if (this.#closer.closed) throw new ClosedError('the redis transport', 'subscribe');
    if (typeof handler !== 'function') {
      throw new InvalidOptionError('redisTransport.subscribe()', 'handler', 'must be a function');
    }
    const spec = resolveSubscribeOptions(options);
    const { redis, connectTimeoutMs, logger } = this.#options;
    await whenReady(redis, connectTimeoutMs);
    const member = randomUUID();
    const context: ConsumerContext = {
      redis,
      keys: this.#keys,
      options: this.#options,
      registry: this.#registry,
      deadLetters: this.deadLetters,
      group: spec.group ?? `${EPHEMERAL_GROUP_PREFIX}${member}`,
      namedGroup: spec.group,
      member,
      logger: logger ?? consoleLogger,
    };
    const subscription: RedisSubscription = new RedisSubscription(
      context,
      spec,
      handler,
      this.#control,
      (closed) => {
        this.#subscriptions.delete(closed);
      },
    );
    this.#subscriptions.add(subscription);
    try {
      await subscription.start();
    } catch (error) {
      // Nothing half-registered stays behind: no connection, timer, listener or heartbeat of this attempt.
      await subscription.close({ timeoutMs: 0 });
      if (error instanceof IncompatibleClientError) {
        reportIncompatible(this.#options, error, 'subscribing failed');
      }
      throw operationError('subscribing', error, redis);
    }
    // One close for the caller, its signal and `await using`; a bad timeoutMs is refused before anything stops.
    return new SubscriptionHandle({
      where: 'subscription.close()',
      close: (timeoutMs) => subscription.close({ timeoutMs }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
  }

  /**
   * Creates the group on every partition of its topics, and for a pattern also records it so that topics first
   * published later get it before their first message. A new group starts at the first retained entry
   * (`'earliest'`) or after the last one (`'latest'`); an existing one keeps its position.
   */
  async declareGroup(declaration: GroupDeclaration): Promise<void> {
    if (this.#closer.closed) throw new ClosedError('the redis transport', 'declareGroup');
    const { group, topics, pattern, match, startFrom } = resolveDeclaration(declaration);
    const { redis, connectTimeoutMs } = this.#options;
    await whenReady(redis, connectTimeoutMs);
    const startId = startFrom === 'earliest' ? '0' : '$';
    const create = async (topic: string, partitions: number): Promise<void> =>
      createGroups(redis, this.#keys.streams(topic, partitions), group, startId);
    try {
      for (const topic of topics) await create(topic, await this.#registry.ensure(topic));
      if (pattern !== undefined && match !== undefined) {
        // Recorded before the registry is read: a topic registered meanwhile is seen by one side or the other.
        await this.#registry.declarePattern(group, pattern);
        for (const [topic, partitions] of await this.#registry.all()) {
          if (match(topic)) await create(topic, partitions);
        }
      }
    } catch (error) {
      throw operationError(`declaring group "${group}"`, error, redis);
    }
  }

  /**
   * The job backend on this transport's client and prefix (see `redisJobBackend`), made on the first call; every
   * call returns the same one, and `close()` closes it.
   */
  jobBackend(): JobBackend {
    if (this.#jobs === undefined) {
      const { redis, prefix, blockMs, connectTimeoutMs, logger } = this.#options;
      this.#jobs = redisJobBackend({
        redis,
        prefix,
        blockMs,
        connectTimeoutMs,
        ...(logger === undefined ? {} : { logger }),
      });
      if (this.#closer.closed) void this.#jobs.close();
    }
    return this.#jobs;
  }

  close(options?: { readonly timeoutMs?: number }): Promise<void> {
    return this.#closer.close(options);
  }

  async #shutdown(timeoutMs: number): Promise<void> {
    await Promise.all([...this.#subscriptions].map((subscription) => subscription.close({ timeoutMs })));
    await Promise.allSettled([...this.#publishing]);
    await this.#jobs?.close();
    this.#control.close();
  }
}

import { randomUUID } from 'node:crypto';
import {
  ClosedError,
  consoleLogger,
  type Delivery,
  InvalidOptionError,
  RelaybusError,
  type Transport,
  type TransportCapabilities,
  TransportError,
  type TransportMessage,
  type TransportSubscribeOptions,
  type TransportSubscription,
} from '@relaybus/core';
import { whenReady } from './connection';
import type { ConsumerContext } from './consumer/consumer-context';
import { RedisSubscription } from './consumer/redis-subscription';
import { ControlChannel } from './control-channel';
import { RedisDeadLetters } from './dead-letters';
import { EPHEMERAL_GROUP_PREFIX, KeySpace } from './names';
import { DEFAULTS, type RedisTransportOptions, type ResolvedOptions, resolveOptions } from './options';
import { Publisher } from './publisher';
import { resolveSubscribeOptions } from './subscribe-options';
import { TopicRegistry } from './topic-registry';

const CAPABILITIES: TransportCapabilities = Object.freeze({
  durable: true,
  groups: true,
  delay: true,
  orderedByKey: true,
});

/**
 * Creates the Redis Streams transport on your ioredis client (standalone or Cluster): consumer groups with
 * batched reads and per-message acks, per-key order through leased partitions, redelivery after the visibility
 * timeout with attempt counts, delays, dead letters, retention and pattern subscriptions.
 *
 * Nothing is sent to Redis until the first `publish` or `subscribe`; when Redis cannot be reached within
 * `connectTimeoutMs` those reject with a {@link RedisUnavailableError} naming the address. `close()` never quits
 * your client.
 *
 * @throws `InvalidOptionError` when an option is invalid, such as a prefix with characters that would
 * break key naming.
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { redisTransport } from '@relaybus/transport-redis';
 *
 * const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
 * const transport = redisTransport({ redis, prefix: 'tasks' });
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
  #closing: Promise<void> | undefined;
  readonly #onAbort = (): void => {
    void this.close();
  };

  constructor(options: ResolvedOptions) {
    this.#options = options;
    const { redis, prefix } = options;
    this.#keys = new KeySpace(prefix);
    this.#registry = new TopicRegistry(redis, this.#keys, options.partitions);
    this.deadLetters = new RedisDeadLetters(redis, this.#keys, this.#registry);
    this.#publisher = new Publisher(redis, this.#keys, this.#registry, options);
    this.#control = new ControlChannel(redis, this.#keys.channel, options.logger ?? consoleLogger);
    const { signal } = options;
    if (signal?.aborted) void this.close();
    else signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  publish(messages: ReadonlyArray<TransportMessage>): Promise<void> {
    if (this.#closing !== undefined) return Promise.reject(new ClosedError('the redis transport', 'publish'));
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
    if (this.#closing !== undefined) throw new ClosedError('the redis transport', 'subscribe');
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
    const { signal } = options;
    const onAbort = (): void => {
      void subscription.close();
    };
    const subscription: RedisSubscription = new RedisSubscription(
      context,
      spec,
      handler,
      this.#control,
      (closed) => {
        signal?.removeEventListener('abort', onAbort);
        this.#subscriptions.delete(closed);
      },
    );
    this.#subscriptions.add(subscription);
    try {
      await subscription.start();
    } catch (error) {
      await subscription.close({ timeoutMs: 0 });
      if (error instanceof RelaybusError) throw error;
      throw new TransportError('redis', `subscribing failed: ${describe(error)}`, { cause: error });
    }
    if (signal?.aborted) void subscription.close();
    else signal?.addEventListener('abort', onAbort, { once: true });
    return subscription;
  }

  close(options?: { readonly timeoutMs?: number }): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    const timeoutMs = options?.timeoutMs ?? DEFAULTS.closeTimeoutMs;
    if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs < 0) {
      return Promise.reject(
        new InvalidOptionError(
          'redisTransport.close()',
          'timeoutMs',
          `must be a finite number of milliseconds >= 0, got ${String(timeoutMs)}`,
        ),
      );
    }
    this.#closing = this.#shutdown(timeoutMs);
    return this.#closing;
  }

  async #shutdown(timeoutMs: number): Promise<void> {
    this.#options.signal?.removeEventListener('abort', this.#onAbort);
    await Promise.all([...this.#subscriptions].map((subscription) => subscription.close({ timeoutMs })));
    await Promise.allSettled([...this.#publishing]);
    this.#control.close();
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

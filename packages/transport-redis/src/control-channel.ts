import type { Logger } from '@relaybus/core';
import type { RedisClient } from './connection';
import { type ControlMessage, parseControlMessage } from './topic-registry';

/**
 * The transport's pub/sub listener: one duplicate connection, opened on first use, that hears about new topics
 * and membership changes. Messages can be lost (pub/sub is fire-and-forget), so every listener also polls.
 */
export class ControlChannel {
  readonly #redis: RedisClient;
  readonly #channel: string;
  readonly #logger: Logger | undefined;
  readonly #listeners = new Set<(message: ControlMessage) => void>();
  #connection: RedisClient | undefined;
  #ready: Promise<void> | undefined;

  constructor(redis: RedisClient, channel: string, logger: Logger | undefined) {
    this.#redis = redis;
    this.#channel = channel;
    this.#logger = logger;
  }

  /** Adds a listener; resolves once the channel is subscribed. Returns the function that removes it. */
  async listen(listener: (message: ControlMessage) => void): Promise<() => void> {
    this.#listeners.add(listener);
    const remove = (): void => {
      this.#listeners.delete(listener);
    };
    try {
      await this.#start();
    } catch (error) {
      remove();
      throw error;
    }
    return remove;
  }

  /** Disconnects the subscriber connection. */
  close(): void {
    this.#listeners.clear();
    const connection = this.#connection;
    this.#connection = undefined;
    this.#ready = undefined;
    connection?.disconnect();
  }

  #start(): Promise<void> {
    if (this.#ready !== undefined) return this.#ready;
    const connection = this.#redis.duplicate();
    this.#connection = connection;
    connection.on('error', (error: unknown) => {
      this.#logger?.debug('redis control channel connection error', { error });
    });
    connection.on('message', (channel: string, payload: string) => {
      if (channel !== this.#channel) return;
      const message = parseControlMessage(payload);
      if (message === undefined) return;
      for (const listener of this.#listeners) {
        try {
          listener(message);
        } catch (error) {
          this.#logger?.error('redis control channel listener failed', { error });
        }
      }
    });
    this.#ready = connection.subscribe(this.#channel).then(() => undefined);
    this.#ready.catch(() => {
      if (this.#connection === connection) {
        this.#ready = undefined;
        this.#connection = undefined;
        connection.disconnect();
      }
    });
    return this.#ready;
  }
}

import { ClosedError, type Logger, TransportUnavailableError } from '@relaybus/core';
import { type ChannelModel, connect } from 'amqplib';
import { amqpError, isRefusal } from './errors';
import type { ResolvedOptions } from './options';

/** Told when the connection comes up (again) or drops. */
export interface ConnectionListener {
  up(model: ChannelModel): void;
  down(error: unknown): void;
}

const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 5_000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `host:port` of an AMQP URL, for error messages (never the credentials). */
export function addressOf(url: string | undefined, model: ChannelModel | undefined): string {
  if (url !== undefined) {
    try {
      const parsed = new URL(url);
      return `${parsed.hostname}:${parsed.port || (parsed.protocol === 'amqps:' ? '5671' : '5672')}`;
    } catch {
      return 'the broker URL';
    }
  }
  const stream = (
    model?.connection as { stream?: { remoteAddress?: unknown; remotePort?: unknown } } | undefined
  )?.stream;
  return typeof stream?.remoteAddress === 'string'
    ? `${stream.remoteAddress}:${String(stream.remotePort)}`
    : 'the connection passed in';
}

/**
 * The transport's connection: its own (from `url`: connected on first use, reconnected with backoff after a drop
 * while anyone listens, closed by {@link AmqpConnection.close}) or the user's (never reconnected nor closed).
 */
export class AmqpConnection {
  readonly address: string;
  readonly #options: ResolvedOptions;
  readonly #logger: Logger;
  readonly #listeners = new Set<ConnectionListener>();
  #model: ChannelModel | undefined;
  #connecting: Promise<ChannelModel> | undefined;
  #reconnecting = false;
  #closed = false;

  constructor(options: ResolvedOptions, logger: Logger) {
    this.#options = options;
    this.#logger = logger;
    this.address = addressOf(options.url, options.connection);
    if (options.connection !== undefined) this.#adopt(options.connection);
  }

  /** The live connection, if there is one now. */
  get current(): ChannelModel | undefined {
    return this.#model;
  }

  /**
   * The live connection; connects (or waits for a reconnect) for up to `connectTimeoutMs` first.
   *
   * @throws `TransportUnavailableError` when the broker cannot be reached in time, a `TransportError` when it refuses
   * the credentials, `ClosedError` after `close()`.
   */
  async get(): Promise<ChannelModel> {
    if (this.#closed) throw new ClosedError('the amqp transport', 'use the connection');
    if (this.#model !== undefined) return this.#model;
    if (this.#options.url === undefined) {
      throw new TransportUnavailableError(
        'amqp',
        this.address,
        'is not connected: the connection passed in was closed. The transport cannot reconnect a connection it does not own; pass `url` to let it reconnect.',
      );
    }
    this.#connecting ??= this.#connectWithin(this.#options.connectTimeoutMs).finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  /** Registers a listener; returns the function that removes it. */
  listen(listener: ConnectionListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Stops reconnecting and closes the connection if the transport owns it. */
  async close(): Promise<void> {
    this.#closed = true;
    const model = this.#model;
    this.#model = undefined;
    if (model !== undefined && this.#options.url !== undefined) {
      await model.close().catch(() => undefined);
    }
  }

  async #connectWithin(timeoutMs: number): Promise<ChannelModel> {
    const deadline = Date.now() + timeoutMs;
    const url = this.#options.url as string;
    for (let wait = FIRST_RETRY_MS; ; wait = Math.min(wait * 2, MAX_RETRY_MS)) {
      const left = deadline - Date.now();
      try {
        const model = await connect(url, {
          timeout: Math.max(100, Math.min(left, this.#options.connectTimeoutMs)),
          clientProperties: { connection_name: `relaybus ${this.#options.exchange}` },
        });
        if (this.#closed) {
          await model.close().catch(() => undefined);
          throw new ClosedError('the amqp transport', 'connect');
        }
        this.#adopt(model);
        return model;
      } catch (error) {
        if (error instanceof ClosedError || isRefusal(error) || Date.now() + wait >= deadline) {
          throw amqpError(this.address, 'connecting', error);
        }
      }
      await sleep(wait);
      if (this.#closed) throw new ClosedError('the amqp transport', 'connect');
    }
  }

  #adopt(model: ChannelModel): void {
    this.#model = model;
    model.on('error', (error: unknown) => {
      this.#logger.warn('amqp transport: connection error', { error, address: this.address });
    });
    model.on('blocked', (reason: string) => {
      this.#logger.warn('amqp transport: the broker blocks publishing (resource alarm)', { reason });
    });
    model.on('unblocked', () => this.#logger.info('amqp transport: the broker accepts publishing again'));
    model.on('close', (error?: unknown) => this.#lost(model, error));
    for (const listener of [...this.#listeners]) listener.up(model);
  }

  #lost(model: ChannelModel, error: unknown): void {
    if (this.#model !== model) return;
    this.#model = undefined;
    if (this.#closed) return;
    this.#logger.warn('amqp transport: connection lost', { address: this.address, error });
    for (const listener of [...this.#listeners]) listener.down(error);
    if (this.#options.url !== undefined) void this.#reconnect();
  }

  /** Reconnects in the background, with backoff, while anyone listens (subscriptions need the connection back). */
  async #reconnect(): Promise<void> {
    if (this.#reconnecting) return;
    this.#reconnecting = true;
    try {
      for (let wait = FIRST_RETRY_MS; !this.#closed && this.#model === undefined; ) {
        if (this.#listeners.size === 0) return;
        try {
          await this.get();
          this.#logger.info('amqp transport: reconnected', { address: this.address });
          return;
        } catch {
          await sleep(wait);
          wait = Math.min(wait * 2, MAX_RETRY_MS);
        }
      }
    } finally {
      this.#reconnecting = false;
    }
  }
}

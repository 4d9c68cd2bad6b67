import type { Consumer, ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import type { Logger } from '@relaybus/core';

/** How long a pull request stays open on the server; the idle heartbeat is half of it. */
const EXPIRES_MS = 10_000;
const RESTART_DELAYS_MS = [100, 250, 500, 1_000, 2_000, 5_000];

/** Opens the JetStream consumer a {@link Source} reads: the durable one of a group, or a new ordered one. */
export type ConsumerOpener = () => Promise<Consumer>;

/**
 * One JetStream consumer read with `consume()`: messages go to `onMessage` as they arrive, at most `prefetch` ahead.
 * The client re-issues its pull requests after a reconnect; when consuming stops for another reason (the consumer
 * vanished, say), the source opens the consumer again, with backoff, until it is stopped.
 */
export class Source {
  readonly #open: ConsumerOpener;
  readonly #prefetch: number;
  readonly #onMessage: (message: JsMsg) => void;
  readonly #logger: Logger;
  readonly #what: string;
  readonly #deleteOnStop: boolean;
  #consumer: Consumer | undefined;
  #messages: ConsumerMessages | undefined;
  #stopped = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;

  constructor(
    what: string,
    open: ConsumerOpener,
    prefetch: number,
    onMessage: (message: JsMsg) => void,
    logger: Logger,
    /** Delete the consumer when stopping (an ordered consumer nobody else reads). */
    deleteOnStop = false,
  ) {
    this.#deleteOnStop = deleteOnStop;
    this.#what = what;
    this.#open = open;
    this.#prefetch = prefetch;
    this.#onMessage = onMessage;
    this.#logger = logger;
  }

  /** Opens the consumer and starts consuming; rejects when the first open fails. */
  async start(): Promise<void> {
    const consumer = await this.#open();
    const messages = await this.#consume(consumer);
    this.#loop = this.#watch(messages);
  }

  /** Stops pulling; messages already received are the caller's. Idempotent. */
  async stop(): Promise<void> {
    const first = !this.#stopped;
    this.#stopped = true;
    this.#wake?.();
    await this.#messages?.close().catch(() => undefined);
    await this.#loop;
    // The server would drop it after its inactivity threshold anyway; deleting it now keeps the server tidy.
    if (first && this.#deleteOnStop) await this.#consumer?.delete().catch(() => undefined);
  }

  #consume(consumer: Consumer): Promise<ConsumerMessages> {
    this.#consumer = consumer;
    return consumer
      .consume({
        max_messages: this.#prefetch,
        expires: EXPIRES_MS,
        abort_on_missing_resource: true,
        callback: (message) => {
          if (!this.#stopped) this.#onMessage(message);
        },
      })
      .then((messages) => {
        this.#messages = messages;
        return messages;
      });
  }

  async #watch(first: ConsumerMessages): Promise<void> {
    let messages: ConsumerMessages | undefined = first;
    let failures = 0;
    while (!this.#stopped) {
      if (messages !== undefined) {
        const ended = await messages.closed().catch((error: unknown) => error);
        if (this.#stopped) return;
        this.#logger.warn(`nats: consuming ${this.#what} stopped; reopening it`, { error: ended });
        messages = undefined;
      }
      await this.#pause(RESTART_DELAYS_MS[Math.min(failures, RESTART_DELAYS_MS.length - 1)] ?? 5_000);
      if (this.#stopped) return;
      try {
        messages = await this.#consume(await this.#open());
        failures = 0;
        this.#logger.info(`nats: consuming ${this.#what} again`);
      } catch (error) {
        failures++;
        if (failures === 1) this.#logger.warn(`nats: reopening ${this.#what} failed; retrying`, { error });
      }
    }
  }

  #pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

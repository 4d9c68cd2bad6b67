import type { Logger } from '@relaybus/core';
import type { ControlChannel } from '../control-channel';
import type { TopicRegistry } from '../topic-registry';

/** What a subscription wants to hear about. */
export interface TopicWatcherHost {
  /** A topic matching the pattern appeared after the subscription started. */
  discovered(topic: string): void;
  /** Membership of `group` on `topic` changed: run a heartbeat now. */
  rebalance(topic: string, group: string): void;
}

/**
 * Follows the topic registry for a pattern subscription (announcements on the control channel, and a periodic
 * re-read as the safety net) and relays membership-change announcements of the subscription's group.
 */
export class TopicWatcher {
  readonly #registry: TopicRegistry;
  readonly #control: ControlChannel;
  readonly #match: ((topic: string) => boolean) | undefined;
  readonly #host: TopicWatcherHost;
  readonly #logger: Logger | undefined;
  #stopListening: (() => void) | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    registry: TopicRegistry,
    control: ControlChannel,
    match: ((topic: string) => boolean) | undefined,
    host: TopicWatcherHost,
    logger: Logger | undefined,
  ) {
    this.#registry = registry;
    this.#control = control;
    this.#match = match;
    this.#host = host;
    this.#logger = logger;
  }

  /** Starts listening; resolves with the registered topics the pattern matches now. */
  async start(listen: boolean, refreshMs: number): Promise<string[]> {
    if (listen || this.#match !== undefined) {
      this.#stopListening = await this.#control.listen((message) => {
        if (message.kind === 'rebalance') this.#host.rebalance(message.topic, message.group);
        else if (this.#match?.(message.topic) === true) this.#host.discovered(message.topic);
      });
    }
    if (this.#match === undefined) return [];
    this.#timer = setInterval(() => void this.#refresh(), refreshMs);
    return this.#matching();
  }

  stop(): void {
    this.#stopListening?.();
    if (this.#timer !== undefined) clearInterval(this.#timer);
  }

  async #matching(): Promise<string[]> {
    const match = this.#match;
    if (match === undefined) return [];
    return [...(await this.#registry.all()).keys()].filter((topic) => match(topic));
  }

  async #refresh(): Promise<void> {
    try {
      for (const topic of await this.#matching()) this.#host.discovered(topic);
    } catch (error) {
      this.#logger?.debug('redis transport: reading the topic registry failed', { error });
    }
  }
}

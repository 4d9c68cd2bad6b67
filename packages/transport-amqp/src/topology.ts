import type { Channel, ChannelModel } from 'amqplib';
import type { AmqpConnection } from './connection';
import { amqpError } from './errors';
import { type DelayTarget, delayBucket, type Names } from './names';
import type { ResolvedOptions } from './options';

/** The queues of one group for one selector (a topic or a pattern). */
export interface GroupQueues {
  /** The quorum queue of keyed messages, consumed by a single active member; absent without `orderedByKey`. */
  readonly ordered: string | undefined;
  /** The quorum queue of messages every member shares. */
  readonly shared: string;
}

/** A delay queue is declared again when it was last declared this long ago, so that it never expires while used. */
const DELAY_REDECLARE_MS = 30_000;
/** How long an unused delay queue lives on after its delay, in milliseconds. */
const DELAY_QUEUE_SPARE_MS = 60_000;

/**
 * Declares the transport's exchanges and queues on a channel of its own (a refused declaration closes only that
 * channel), remembering what it declared on the current connection so each thing is declared once per connection.
 */
export class Topology {
  readonly #connection: AmqpConnection;
  readonly #names: Names;
  readonly #options: ResolvedOptions;
  #model: ChannelModel | undefined;
  #channel: Promise<Channel> | undefined;
  #declared = new Map<string, Promise<unknown>>();
  #delayDeclaredAt = new Map<string, number>();

  constructor(connection: AmqpConnection, names: Names, options: ResolvedOptions) {
    this.#connection = connection;
    this.#names = names;
    this.#options = options;
  }

  /** Runs `work` on the declaring channel; failures become relaybus errors saying what was being done. */
  async run<T>(doing: string, work: (channel: Channel) => Promise<T>): Promise<T> {
    try {
      return await work(await this.#channelNow());
    } catch (error) {
      throw amqpError(this.#connection.address, doing, error);
    }
  }

  /** Whether {@link Topology.base} completed on the current connection. */
  baseDeclared = false;

  /** The exchanges, their bindings and the dead-letter queue: what publishing and every consumer need. */
  base(): Promise<unknown> {
    if (this.#connection.current !== this.#model) this.baseDeclared = false;
    return this.#once('base', 'declaring the exchanges', async (channel) => {
      const { main, keyed, delay, deadLetters } = this.#names;
      // Two exchanges rather than one with an exchange-to-exchange hop: each message is routed once.
      await channel.assertExchange(main, 'topic', { durable: true });
      await channel.assertExchange(keyed, 'topic', { durable: true });
      await channel.assertExchange(delay, 'headers', { durable: true });
      await channel.assertQueue(deadLetters, { durable: true });
      this.baseDeclared = true;
    });
  }

  /** Declares (idempotently) the queues of `group` for `selector` and binds them; returns their names. */
  async group(group: string, selector: string): Promise<GroupQueues> {
    await this.base();
    const names = this.#names;
    const queues: GroupQueues = {
      ordered: this.#options.orderedByKey ? names.groupQueue(group, selector, 'ordered') : undefined,
      shared: names.groupQueue(group, selector, 'shared'),
    };
    await this.#once(
      `group ${queues.shared}`,
      `declaring the queues of group "${group}"`,
      async (channel) => {
        const args = this.#groupQueueArguments();
        if (queues.ordered !== undefined) {
          await channel.assertQueue(queues.ordered, {
            durable: true,
            arguments: { ...args, 'x-single-active-consumer': true },
          });
          await channel.bindQueue(queues.ordered, names.keyed, selector);
        }
        await channel.assertQueue(queues.shared, { durable: true, arguments: args });
        if (queues.ordered === undefined) await channel.bindQueue(queues.shared, names.keyed, selector);
        await channel.bindQueue(queues.shared, names.unkeyed, selector);
      },
    );
    return queues;
  }

  /**
   * The delay queue for `delayMs` (rounded up to a bucket) towards `target`: a classic queue whose messages all
   * expire after the same time (no head-of-line blocking), then dead-letter into the keyed or unkeyed exchange (a
   * delayed publish) or, with their routing key as queue name, into one queue (a retry). Returns the bucket.
   */
  async delayQueue(target: DelayTarget, delayMs: number): Promise<number> {
    await this.base();
    const bucket = delayBucket(delayMs);
    const queue = this.#names.delayQueue(target, bucket);
    const declaredAt = this.#delayDeclaredAt.get(queue);
    if (declaredAt !== undefined && Date.now() - declaredAt < DELAY_REDECLARE_MS) return bucket;
    const names = this.#names;
    const exchange = target === 'keyed' ? names.keyed : target === 'unkeyed' ? names.unkeyed : '';
    await this.run(`declaring the delay queue for ${bucket} ms`, async (channel) => {
      await channel.assertQueue(queue, {
        durable: true,
        arguments: {
          'x-message-ttl': bucket,
          'x-expires': bucket + DELAY_QUEUE_SPARE_MS,
          'x-dead-letter-exchange': exchange,
        },
      });
      await channel.bindQueue(queue, names.delay, '', {
        'x-match': 'all',
        'relaybus-delay': `${target}.${bucket}`,
      });
    });
    this.#delayDeclaredAt.set(queue, Date.now());
    return bucket;
  }

  /** Forgets what was declared: after a reconnect everything is declared again (a restarted broker may have lost it). */
  reset(): void {
    this.baseDeclared = false;
    this.#declared = new Map();
    this.#delayDeclaredAt = new Map();
  }

  /** Closes the declaring channel. */
  async close(): Promise<void> {
    const channel = this.#channel;
    this.#channel = undefined;
    await channel?.then((open) => open.close()).catch(() => undefined);
  }

  #groupQueueArguments(): Record<string, unknown> {
    const { deliveryLimit, groupExpiresMs } = this.#options;
    return {
      'x-queue-type': 'quorum',
      'x-delivery-limit': deliveryLimit,
      'x-dead-letter-exchange': '',
      'x-dead-letter-routing-key': this.#names.deadLetters,
      'x-dead-letter-strategy': 'at-least-once',
      'x-overflow': 'reject-publish',
      ...(groupExpiresMs === false ? {} : { 'x-expires': groupExpiresMs }),
    };
  }

  #once(key: string, doing: string, work: (channel: Channel) => Promise<void>): Promise<unknown> {
    let done = this.#declared.get(key);
    if (done === undefined) {
      done = this.run(doing, work);
      this.#declared.set(key, done);
      done.catch(() => {
        if (this.#declared.get(key) === done) this.#declared.delete(key);
      });
    }
    return done;
  }

  async #channelNow(): Promise<Channel> {
    const model = await this.#connection.get();
    if (model !== this.#model) {
      this.#model = model;
      this.#channel = undefined;
      this.reset();
    }
    if (this.#channel === undefined) {
      const opening = model.createChannel();
      this.#channel = opening;
      opening.then(
        (channel) => {
          channel.on('error', () => undefined);
          channel.on('close', () => {
            if (this.#channel === opening) this.#channel = undefined;
          });
        },
        () => {
          if (this.#channel === opening) this.#channel = undefined;
        },
      );
    }
    return this.#channel;
  }
}

import type { Subscription } from '@nats-io/transport-node';
import type { Logger } from '@relaybus/core';
import { decodeMessage, HEADER, header } from './codec';
import type { Session } from './connection';
import type { NatsDeadLetters } from './dead-letters';
import type { Topology } from './topology';

/** Every process of a deployment joins this queue group, so each advisory is handled once. */
const QUEUE = 'relaybus-max-deliveries';
const GROUP_OF = /^relaybus group (.+?): /;

/** The advisory JetStream publishes when a message reached its consumer's `max_deliver`. */
interface MaxDeliveriesAdvisory {
  readonly stream?: string;
  readonly consumer?: string;
  readonly stream_seq?: number;
  readonly deliveries?: number;
}

/**
 * Dead-letters what JetStream gives up on by itself. A subscription dead-letters a message whose last allowed
 * delivery it nacks or lets expire; but when the process holding that last delivery dies, JetStream just stops
 * delivering it and publishes a `MAX_DELIVERIES` advisory. Every process with a group subscription listens for those
 * advisories of the deployment's stream (in one queue group) and records the message as a dead letter of its group,
 * with reason `MAX_ATTEMPTS`. An advisory published while no process listens is not seen (core NATS, not stored).
 */
export class MaxDeliveriesWatcher {
  readonly #topology: Topology;
  readonly #deadLetters: NatsDeadLetters;
  readonly #logger: Logger;
  readonly #groups = new Map<string, string | null>();
  #subscription: Subscription | undefined;

  constructor(topology: Topology, deadLetters: NatsDeadLetters, logger: Logger) {
    this.#topology = topology;
    this.#deadLetters = deadLetters;
    this.#logger = logger;
  }

  /** Starts listening (once). */
  start(session: Session): void {
    if (this.#subscription !== undefined) return;
    const subject = `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${this.#topology.names.stream}.*`;
    this.#subscription = session.nc.subscribe(subject, {
      queue: QUEUE,
      callback: (error, message) => {
        if (error !== null) return;
        void this.#handle(session, message.json<MaxDeliveriesAdvisory>()).catch((failure: unknown) => {
          this.#logger.error('nats: dead-lettering a message JetStream stopped delivering failed', {
            error: failure,
          });
        });
      },
    });
  }

  stop(): void {
    this.#subscription?.unsubscribe();
    this.#subscription = undefined;
  }

  async #handle(session: Session, advisory: MaxDeliveriesAdvisory): Promise<void> {
    const { stream, consumer, stream_seq: seq, deliveries } = advisory;
    if (stream === undefined || consumer === undefined || seq === undefined) return;
    const group = await this.#groupOf(session, stream, consumer);
    if (group === null) return;
    const stored = await session.jsm.streams.getMessage(stream, { seq });
    if (stored === null) return;
    const only = header(stored.header, HEADER.group);
    if (only !== undefined && only !== group) return;
    const { names } = this.#topology;
    const message = decodeMessage(names.topicOf(stored.subject), stored.data, stored.header);
    this.#logger.warn(
      `nats: message ${message.id} of group "${group}" was not settled in its last allowed delivery; dead-lettering it`,
    );
    await this.#deadLetters.write({
      message,
      group,
      input: {
        reason: 'MAX_ATTEMPTS',
        error: {
          name: 'Error',
          message: `JetStream stopped delivering it after ${deliveries ?? 'maxDeliver'} deliveries: the last one was never settled (its consumer stopped)`,
        },
      },
      attempts: deliveries ?? 0,
      firstAttemptAt: stored.time.getTime(),
      lastAttemptAt: Date.now(),
    });
  }

  /** The relaybus group of a consumer, read from its description; `null` for consumers that are not a group's. */
  async #groupOf(session: Session, stream: string, consumer: string): Promise<string | null> {
    const known = this.#groups.get(consumer);
    if (known !== undefined) return known;
    const info = await session.jsm.consumers.info(stream, consumer);
    const group = GROUP_OF.exec(info.config.description ?? '')?.[1] ?? null;
    this.#groups.set(consumer, group);
    return group;
  }
}

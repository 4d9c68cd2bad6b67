import { AckPolicy, DeliverPolicy, type JsMsg } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import type { Logger } from '@relaybus/core';
import { HEADER, header } from './codec';
import type { Session } from './connection';
import { Source } from './consumer/source';
import { API_CODE, apiCode } from './errors';
import type { Topology } from './topology';

/** Durable consumer of the delayed stream shared by every mover of a deployment (they compete for messages). */
const MOVER = 'relaybus_mover';
const MOVER_ACK_WAIT_MS = 30_000;
/** A message due within this is held here with a timer; one due later is handed back with `nak(delay)`. */
const HOLD_MS = 20_000;
const MAX_HELD = 10_000;
const RETRY_MS = 1_000;

/**
 * Moves delayed messages to the main stream when they are due. NATS 2.9 has no scheduled messages, so `publish`
 * with `delayMs` stores the message in the work-queue stream `<stream>__delayed` with its due time and target
 * subject; every transport instance that subscribes (or publishes a delayed message) runs a mover on one shared
 * durable consumer of that stream. A mover keeps a message due soon with a timer (renewing its ack deadline), hands
 * one due later back with `nak(delay)`, and when it is due publishes it to its subject (deduplicated by the delayed
 * message's sequence, so a crash between publishing and acking cannot store it twice) and acks it. A crashed mover's
 * messages go to another after the ack wait; with no mover running, delayed messages wait in the stream.
 */
export class DelayMover {
  readonly #topology: Topology;
  readonly #logger: Logger;
  readonly #held = new Map<JsMsg, ReturnType<typeof setTimeout>>();
  #source: Source | undefined;
  #starting: Promise<void> | undefined;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #session: Session | undefined;
  #stopped = false;

  constructor(topology: Topology, logger: Logger) {
    this.#topology = topology;
    this.#logger = logger;
  }

  /** Starts moving (once); resolves when the mover reads the delayed stream. */
  start(session: Session): Promise<void> {
    if (this.#starting === undefined) {
      const starting = this.#start(session);
      this.#starting = starting;
      starting.catch(() => {
        if (this.#starting === starting) this.#starting = undefined;
      });
    }
    return this.#starting;
  }

  async #start(session: Session): Promise<void> {
    this.#session = session;
    const { names } = this.#topology;
    const open = async () => {
      await this.#ensureConsumer(session);
      return session.js.consumers.get(names.delayedStream, MOVER);
    };
    const source = new Source(
      'the delayed-message mover',
      open,
      256,
      (message) => this.#take(message),
      this.#logger,
    );
    await source.start();
    if (this.#stopped) {
      await source.stop();
      return;
    }
    this.#source = source;
    this.#heartbeat = setInterval(() => {
      for (const message of this.#held.keys()) message.working();
    }, MOVER_ACK_WAIT_MS / 3);
    this.#heartbeat.unref?.();
  }

  async #ensureConsumer(session: Session): Promise<void> {
    const { names } = this.#topology;
    try {
      await session.jsm.consumers.info(names.delayedStream, MOVER);
      return;
    } catch (error) {
      if (apiCode(error) !== API_CODE.consumerNotFound) throw error;
    }
    await session.jsm.consumers
      .add(names.delayedStream, {
        durable_name: MOVER,
        description: `relaybus: moves delayed messages of prefix ${names.prefix} to ${names.stream} when due`,
        ack_policy: AckPolicy.Explicit,
        ack_wait: nanos(MOVER_ACK_WAIT_MS),
        max_ack_pending: MAX_HELD,
        deliver_policy: DeliverPolicy.All,
      })
      .catch((error: unknown) => {
        const code = apiCode(error);
        if (code !== API_CODE.consumerExists && code !== API_CODE.consumerNameExists) throw error;
      });
  }

  #take(message: JsMsg): void {
    if (this.#stopped) {
      message.nak();
      return;
    }
    const dueAt = Number(header(message.headers, HEADER.dueAt));
    const remaining = Number.isFinite(dueAt) ? dueAt - Date.now() : 0;
    if (remaining <= 0) {
      void this.#move(message);
    } else if (remaining > HOLD_MS) {
      message.nak(remaining - HOLD_MS / 2);
    } else {
      this.#held.set(
        message,
        setTimeout(() => {
          this.#held.delete(message);
          void this.#move(message);
        }, remaining),
      );
    }
  }

  async #move(message: JsMsg): Promise<void> {
    const session = this.#session;
    const target = header(message.headers, HEADER.target);
    if (session === undefined || target === undefined) {
      this.#logger.error(`nats: delayed message ${message.seq} has no target subject; dropping it`);
      message.term();
      return;
    }
    const headers = message.headers;
    headers?.delete(HEADER.dueAt);
    headers?.delete(HEADER.target);
    headers?.delete(HEADER.id);
    try {
      await session.js.publish(target, message.data, {
        msgID: `delayed:${this.#topology.names.delayedStream}:${message.seq}`,
        ...(headers === undefined ? {} : { headers }),
      });
      message.ack();
    } catch (error) {
      this.#logger.warn(`nats: moving delayed message ${message.seq} failed; retrying in ${RETRY_MS} ms`, {
        error,
      });
      message.nak(RETRY_MS);
    }
  }

  /** Stops moving; messages held for later are handed back at once, for another mover. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#starting?.catch(() => undefined);
    await this.#source?.stop();
    if (this.#heartbeat !== undefined) clearInterval(this.#heartbeat);
    for (const [message, timer] of this.#held) {
      clearTimeout(timer);
      message.nak();
    }
    this.#held.clear();
  }
}

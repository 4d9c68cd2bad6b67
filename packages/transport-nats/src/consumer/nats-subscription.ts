import type { JsMsg } from '@nats-io/jetstream';
import {
  ClosedError,
  type DeadLetterInput,
  type Delivery,
  HandlerTimeoutError,
  type SerializedError,
} from '@relaybus/core';
import {
  DeliveryState,
  invokeHandler,
  KeyedDispatcher,
  type ResolvedTransportSubscribeOptions,
} from '@relaybus/core/transport-kit';
import { decodeMessage, HEADER, header } from '../codec';
import type { Session } from '../connection';
import { natsError } from '../errors';
import type { FilterSpec } from '../topology';
import type { ConsumerContext } from './consumer-context';
import { type DeliveryOwner, NatsDelivery } from './nats-delivery';
import type { Source } from './source';
import { openSources } from './sources';

type Handler = (delivery: Delivery) => void | Promise<void>;

/**
 * One `subscribe()`: a {@link Source} per JetStream consumer it reads (a group's durable consumers on each filter and
 * lane, or a group-less subscriber's ordered consumers), one {@link KeyedDispatcher} for concurrency and per-key
 * order, `working()` heartbeats for every message it holds, and a graceful close.
 */
export class NatsSubscription implements DeliveryOwner {
  readonly #context: ConsumerContext;
  readonly #spec: ResolvedTransportSubscribeOptions;
  readonly #handler: Handler;
  readonly #group: string | undefined;
  readonly #dispatcher: KeyedDispatcher<NatsDelivery>;
  readonly #sources: Source[] = [];
  /** Group deliveries whose message this subscription holds (queued or in flight), kept alive by heartbeats. */
  readonly #held = new Set<NatsDelivery>();
  readonly #settling = new Set<Promise<unknown>>();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #flushSource: Promise<void> | undefined;
  #flushed: Promise<void> = Promise.resolve();
  #closing = false;

  constructor(context: ConsumerContext, spec: ResolvedTransportSubscribeOptions, handler: Handler) {
    this.#context = context;
    this.#spec = spec;
    this.#handler = handler;
    this.#group = spec.group;
    this.#dispatcher = new KeyedDispatcher<NatsDelivery>(
      { handle: (delivery) => this.#handle(delivery), expired: (delivery) => this.#expired(delivery) },
      { concurrency: spec.concurrency, visibilityTimeoutMs: spec.visibilityTimeoutMs },
    );
  }

  /** Creates what the subscription reads and starts reading; messages published after it resolves are kept. */
  async start(session: Session): Promise<void> {
    const sources = await openSources(this.#context, session, this.#spec, (raw, filter) =>
      this.#receive(raw, filter),
    );
    this.#sources.push(...sources);
    await Promise.all(sources.map((source) => source.start()));
  }

  #receive(raw: JsMsg, filter: FilterSpec): void {
    const grouped = this.#group !== undefined;
    if (this.#closing) {
      if (grouped) raw.nak();
      return;
    }
    const { names } = this.#context.topology;
    const topic = names.topicOf(raw.subject);
    const only = header(raw.headers, HEADER.group);
    if (!filter.accepts(topic) || (only !== undefined && only !== this.#group)) {
      // Not for this subscriber (another group's redrive, or what a wide filter let through): done with it here.
      if (grouped) raw.ack();
      return;
    }
    const message = decodeMessage(topic, raw.data, raw.headers);
    const attempt = grouped ? raw.info.deliveryCount : 1;
    const firstAttemptAt =
      attempt === 1
        ? 0
        : (this.#context.firstAttempts.get(this.#firstKey(raw)) ??
          Math.floor(Number(raw.info.timestampNanos) / 1e6));
    const delivery = new NatsDelivery(message, attempt, firstAttemptAt, raw, this);
    if (grouped) {
      this.#held.add(delivery);
      this.#startHeartbeat();
    }
    this.#dispatcher.push(delivery);
  }

  #firstKey(raw: JsMsg): string {
    return `${raw.info.consumer}:${raw.seq}`;
  }

  #handle(delivery: NatsDelivery): void {
    invokeHandler(this.#handler, delivery, (error, failed) => {
      this.#context.options.onError?.(error, failed);
      if (failed.inFlight) this.#track(Promise.resolve(failed.nack()));
    });
  }

  #expired(delivery: NatsDelivery): void {
    const { visibilityTimeoutMs } = this.#spec;
    if (!delivery.takeBack(new HandlerTimeoutError(delivery.message.topic, visibilityTimeoutMs))) return;
    if (this.#group === undefined) {
      this.#dispatcher.finish(delivery, this.#closing ? undefined : delivery.retry());
      return;
    }
    this.#release(delivery);
    this.#remember(delivery);
    if (this.#isLast(delivery)) {
      const error = {
        name: 'HandlerTimeoutError',
        message: `visibility timeout of ${visibilityTimeoutMs} ms ran out`,
      };
      this.#track(this.#giveUp(delivery, error));
    } else {
      delivery.raw.nak();
    }
  }

  ack(delivery: NatsDelivery): Promise<void> {
    if (this.#group === undefined) {
      this.#dispatcher.finish(delivery);
      return Promise.resolve();
    }
    this.#release(delivery);
    delivery.raw.ack();
    return this.#flush('acknowledging');
  }

  nack(delivery: NatsDelivery, delayMs: number): Promise<void> {
    if (this.#group === undefined) {
      this.#redeliverLocally(delivery, delayMs);
      return Promise.resolve();
    }
    this.#release(delivery);
    this.#remember(delivery);
    if (this.#isLast(delivery)) {
      return this.#track(
        this.#giveUp(delivery, { name: 'Error', message: 'nacked on its last allowed delivery' }),
      );
    }
    delivery.raw.nak(delayMs > 0 ? Math.ceil(delayMs) : undefined);
    return this.#flush('nacking');
  }

  deadLetter(delivery: NatsDelivery, input: DeadLetterInput): Promise<void> {
    if (this.#group === undefined) this.#dispatcher.finish(delivery);
    else this.#release(delivery);
    return this.#track(this.#writeDeadLetter(delivery, input));
  }

  /** A group-less subscriber's nack: its ordered consumer does not redeliver, so the process does. */
  #redeliverLocally(delivery: NatsDelivery, delayMs: number): void {
    if (this.#closing) {
      this.#dispatcher.finish(delivery);
      return;
    }
    if (delayMs === 0) {
      this.#dispatcher.finish(delivery, delivery.retry());
      return;
    }
    this.#dispatcher.finish(delivery);
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      this.#dispatcher.push(delivery.retry());
    }, delayMs);
    this.#timers.add(timer);
  }

  /** Whether JetStream will not deliver this message to the group again (`max_deliver` reached). */
  #isLast(delivery: NatsDelivery): boolean {
    return delivery.attempt >= this.#context.options.maxDeliver;
  }

  async #giveUp(delivery: NatsDelivery, error: SerializedError): Promise<void> {
    const { maxDeliver } = this.#context.options;
    this.#context.logger.warn(
      `nats: message ${delivery.message.id} of group "${this.#group}" reached maxDeliver (${maxDeliver}); dead-lettering it`,
    );
    await this.#writeDeadLetter(delivery, {
      reason: 'MAX_ATTEMPTS',
      error: { ...error, message: `${error.message} (maxDeliver ${maxDeliver})` },
    });
  }

  async #writeDeadLetter(delivery: NatsDelivery, input: DeadLetterInput): Promise<void> {
    const grouped = this.#group !== undefined;
    try {
      await this.#context.deadLetters.write({
        message: delivery.message,
        group: this.#group,
        input,
        attempts: delivery.attempt,
        firstAttemptAt: delivery.firstAttemptAt,
        lastAttemptAt: delivery.startedAt || Date.now(),
      });
    } catch (error) {
      // Not recorded: hand the message back so that it is not lost.
      if (grouped) delivery.raw.nak();
      throw error;
    }
    if (!grouped) return;
    delivery.raw.ack();
    await this.#flush('acknowledging a dead-lettered message');
  }

  /** Keeps the first attempt's time of a message handed back, for its redelivery to this process. */
  #remember(delivery: NatsDelivery): void {
    this.#context.firstAttempts.set(this.#firstKey(delivery.raw), delivery.firstAttemptAt);
  }

  /** Forgets a group delivery that is over and lets the dispatcher hand out the next one. */
  #release(delivery: NatsDelivery): void {
    this.#held.delete(delivery);
    this.#dispatcher.finish(delivery);
  }

  /**
   * Resolves once the server read what was just sent (one flush per event-loop turn, shared by every ack and nak of
   * that turn, and tracked once for `close()`).
   */
  #flush(doing: string): Promise<void> {
    const flushing = this.#context.flushSoon();
    if (flushing !== this.#flushSource) {
      this.#flushSource = flushing;
      this.#flushed = this.#track(
        flushing.catch((error: unknown) => {
          throw natsError(this.#context.connector.address, doing, error);
        }),
      );
    }
    return this.#flushed;
  }

  #track<T>(promise: Promise<T>): Promise<T> {
    this.#settling.add(promise);
    const forget = (): void => {
      this.#settling.delete(promise);
    };
    promise.then(forget, forget);
    return promise;
  }

  /** Renews the ack deadline of every held message that is queued, or in flight within its visibility timeout. */
  #startHeartbeat(): void {
    if (this.#heartbeat !== undefined) return;
    const periodMs = Math.max(50, Math.floor(this.#context.options.ackWaitMs / 3));
    this.#heartbeat = setInterval(() => {
      if (this.#held.size === 0) return;
      const now = Date.now();
      for (const delivery of this.#held) {
        if (delivery.state === DeliveryState.QUEUED || (delivery.inFlight && now < delivery.deadline)) {
          delivery.raw.working();
        }
      }
    }, periodMs);
    this.#heartbeat.unref?.();
  }

  /**
   * Stops reading, hands back what was read ahead (not counted as a delivery), waits up to `timeoutMs` for in-flight
   * deliveries, then takes back the rest (their signals abort); those come back after the ack wait, as attempt + 1.
   */
  async close(timeoutMs: number): Promise<void> {
    this.#closing = true;
    await Promise.all(this.#sources.map((source) => source.stop()));
    for (const delivery of this.#dispatcher.close()) {
      delivery.discard();
      if (this.#held.delete(delivery)) delivery.raw.nak();
    }
    if (!(await this.#dispatcher.whenIdle(timeoutMs))) {
      const reason = new ClosedError('the subscription', 'finish handling the delivery');
      // Left to JetStream's ack wait rather than nak'ed: our pull requests outlive the subscription on the server
      // (NATS 2.9 cannot cancel them), and a message nak'ed into one comes back with its delivery count undone.
      for (const delivery of [...this.#dispatcher.inflight]) {
        if (!delivery.takeBack(reason)) continue;
        this.#dispatcher.finish(delivery);
        this.#held.delete(delivery);
        this.#remember(delivery);
      }
    }
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    if (this.#heartbeat !== undefined) clearInterval(this.#heartbeat);
    await Promise.allSettled([...this.#settling]);
    await this.#context.flushSoon().catch(() => undefined);
  }
}

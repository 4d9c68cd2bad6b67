import { InvalidOptionError } from '../errors';
import type { DeadLetterInput, Delivery, TransportMessage } from '../transport/transport';

/**
 * The life of a {@link KitDelivery}: `QUEUED` (waiting, or delayed), `IN_FLIGHT` (handed to the handler,
 * unsettled), `DONE` (settled, taken back or discarded: every further settle call is a no-op).
 *
 * @example
 * ```ts
 * import { DeliveryState } from '@relaybus/core/transport-kit';
 *
 * if (delivery.state === DeliveryState.IN_FLIGHT) await delivery.ack();
 * ```
 */
export const DeliveryState = { QUEUED: 0, IN_FLIGHT: 1, DONE: 2 } as const;

/**
 * One of the {@link DeliveryState} values.
 *
 * @example
 * ```ts
 * const state: DeliveryStateValue = DeliveryState.QUEUED;
 * ```
 */
export type DeliveryStateValue = (typeof DeliveryState)[keyof typeof DeliveryState];

const { IN_FLIGHT, DONE } = DeliveryState;

/**
 * Checks the `delayMs` given to `delivery.nack()`: a finite number of milliseconds `>= 0` (`undefined` is 0).
 *
 * @throws `InvalidOptionError` naming `delivery.nack()` and `delayMs`.
 * @example
 * ```ts
 * import { checkNackDelay } from '@relaybus/core/transport-kit';
 *
 * const delayMs = checkNackDelay(options?.delayMs); // 0 when not given
 * ```
 */
export function checkNackDelay(delayMs: unknown): number {
  if (delayMs === undefined) return 0;
  if (typeof delayMs !== 'number' || !Number.isFinite(delayMs) || delayMs < 0) {
    throw new InvalidOptionError(
      'delivery.nack()',
      'delayMs',
      `must be a finite number >= 0, got ${String(delayMs)}`,
    );
  }
  return delayMs;
}

/**
 * The delivery object of a transport, minus the broker: it carries the message, the attempt and when the message
 * was first delivered; its `signal` is made on first read (most handlers never look at it); it settles at most once
 * (`ack`, `nack` and `deadLetter` are no-ops unless it is `IN_FLIGHT`, so calls on a stale delivery after a
 * redelivery cannot settle the new one); `nack` checks its delay before anything else. A subclass says what
 * settling means on its broker. A redelivery is a new object with `attempt + 1`.
 *
 * @example
 * ```ts
 * import { KitDelivery } from '@relaybus/core/transport-kit';
 *
 * class QueueDelivery extends KitDelivery {
 *   constructor(message: TransportMessage, attempt: number, private readonly tag: number, private readonly channel: Channel) {
 *     super(message, attempt, Date.now());
 *   }
 *   protected settleAck(): void { this.channel.ack(this.tag); }
 *   protected settleNack(delayMs: number): void { this.channel.nack(this.tag); }
 *   protected settleDeadLetter(input: DeadLetterInput): void { this.channel.reject(this.tag); }
 * }
 * ```
 */
export abstract class KitDelivery implements Delivery {
  readonly message: TransportMessage;
  readonly attempt: number;
  firstAttemptAt: number;
  /** The message's ordering key, read once. */
  readonly key: string | undefined;
  /** A {@link DeliveryState} value; the transport moves it to `IN_FLIGHT` when it hands the delivery out. */
  state: number;
  /** When it was handed to the handler (epoch ms; 0 until then). */
  startedAt = 0;
  /** When its visibility timeout runs out (epoch ms; 0 until handed out). */
  deadline = 0;
  #controller: AbortController | null = null;
  #abortReason: unknown = undefined;

  /**
   * @param message - The message.
   * @param attempt - 1 for the first delivery.
   * @param firstAttemptAt - When the message was first delivered (epoch ms), or 0 to stamp it when handed out.
   * @param state - `IN_FLIGHT` (the default) for a delivery handed out at once, `QUEUED` for one that waits.
   */
  constructor(
    message: TransportMessage,
    attempt: number,
    firstAttemptAt: number,
    state: DeliveryStateValue = IN_FLIGHT,
  ) {
    this.message = message;
    this.key = message.key;
    this.attempt = attempt;
    this.firstAttemptAt = firstAttemptAt;
    this.state = state;
  }

  /** Aborted when the delivery is taken back (visibility timeout, lost lease, closing subscription). */
  get signal(): AbortSignal {
    if (this.#controller === null) {
      this.#controller = new AbortController();
      if (this.#abortReason !== undefined) this.#controller.abort(this.#abortReason);
    }
    return this.#controller.signal;
  }

  /** Whether the delivery is in flight: handed out and not yet settled or taken back. */
  get inFlight(): boolean {
    return this.state === IN_FLIGHT;
  }

  ack(): void | Promise<void> {
    if (this.state !== IN_FLIGHT) return;
    this.state = DONE;
    return this.settleAck();
  }

  nack(options?: { readonly delayMs?: number }): void | Promise<void> {
    const delayMs = checkNackDelay(options?.delayMs);
    if (this.state !== IN_FLIGHT) return;
    this.state = DONE;
    return this.settleNack(delayMs);
  }

  deadLetter(input: DeadLetterInput): void | Promise<void> {
    if (this.state !== IN_FLIGHT) return;
    this.state = DONE;
    return this.settleDeadLetter(input);
  }

  /**
   * Marks the delivery handed out: `IN_FLIGHT`, `startedAt = now`, `deadline = now + visibilityTimeoutMs`, and
   * `firstAttemptAt = now` when it was 0.
   */
  start(now: number, visibilityTimeoutMs: number): void {
    this.state = IN_FLIGHT;
    this.startedAt = now;
    this.deadline = now + visibilityTimeoutMs;
    if (this.firstAttemptAt === 0) this.firstAttemptAt = now;
  }

  /**
   * Takes an unsettled delivery back (its lease ran out, or its subscription is closing): marks it `DONE` so it can
   * no longer settle, and aborts its signal with `reason`. Returns false, doing nothing, when it was not in flight.
   */
  takeBack(reason: Error): boolean {
    if (this.state !== IN_FLIGHT) return false;
    this.state = DONE;
    this.abort(reason);
    return true;
  }

  /**
   * Retires a delivery that never reached a handler (still `QUEUED`, such as one returned by
   * `KeyedDispatcher.close()`): it becomes `DONE`, so it can never be settled, without calling any settle method.
   * The transport hands its message back to the broker itself. Returns false, doing nothing, when it was not queued.
   */
  discard(): boolean {
    if (this.state !== DeliveryState.QUEUED) return false;
    this.state = DONE;
    return true;
  }

  /** Aborts `signal` with `reason` (now, or on its first read). Only the first reason counts. */
  abort(reason: Error): void {
    if (this.#abortReason !== undefined) return;
    this.#abortReason = reason;
    this.#controller?.abort(reason);
  }

  /** What `ack()` does on the broker; called once, after the state moved to `DONE`. */
  protected abstract settleAck(): void | Promise<void>;
  /** What `nack()` does on the broker (`delayMs` checked, 0 = now); called once, after the state moved to `DONE`. */
  protected abstract settleNack(delayMs: number): void | Promise<void>;
  /** What `deadLetter()` does on the broker; called once, after the state moved to `DONE`. */
  protected abstract settleDeadLetter(input: DeadLetterInput): void | Promise<void>;
}

import type { Envelope } from '@relaybus/core';
import { RecentIds } from './recent-ids';
import { matchesSelector } from './selector-match';
import type { BridgeSelector, BridgeSubscription, DeliveryInfo } from './types';

/**
 * Calls a user's listener so that what it throws cannot break the client: the error is reported the way
 * `EventTarget` reports its listeners' (a browser logs it, Node raises `uncaughtException`).
 *
 * @example
 * ```ts
 * safely(listener, event, info);
 * ```
 */
export function safely<TArgs extends unknown[]>(listener: (...args: TArgs) => void, ...args: TArgs): void {
  try {
    listener(...args);
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}

/**
 * Whether `position` is newer than `than` (no position is newer than none; positions compare as strings).
 *
 * @example
 * ```ts
 * isNewer('0000000043', '0000000042'); // true
 * ```
 */
export function isNewer(position: string | undefined, than: string | undefined): position is string {
  return position !== undefined && (than === undefined || than < position);
}

/**
 * One subscription of the client: which events it takes (selector, position, recent ids), and whether it is
 * catching up. From a subscribe with `from` until the server's `subscribed`, it takes only the events replayed for
 * it: live events the server sends meanwhile (for other subscriptions) are newer than the replay, and would move
 * its position past the events still to be replayed; those live events that match it are in the replay.
 *
 * @example
 * ```ts
 * const sub = new ClientSubscription('s1', { pattern: 'task.*' }, listener, 1000, undefined, remove);
 * sub.offer(event, '0000000042', false);
 * ```
 */
export class ClientSubscription implements BridgeSubscription {
  readonly id: string;
  readonly selector: BridgeSelector;
  position: string | undefined;
  closed = false;
  /** Subscribe requests refused with `retry` in a row. */
  retries = 0;
  readonly #listener: (event: Envelope, info: DeliveryInfo) => void;
  readonly #seen: RecentIds;
  readonly #onClose: (subscription: ClientSubscription) => void;
  /** Whether the next subscribe resumes: the subscription went out before, or was given `from`. */
  #resume: boolean;
  #catchingUp = false;
  readonly ready: Promise<void>;
  #confirm!: (error?: Error) => void;

  constructor(
    id: string,
    selector: BridgeSelector,
    listener: (event: Envelope, info: DeliveryInfo) => void,
    dedupe: number,
    position: string | undefined,
    onClose: (subscription: ClientSubscription) => void,
  ) {
    this.id = id;
    this.selector = selector;
    this.#listener = listener;
    this.#seen = new RecentIds(dedupe);
    this.#onClose = onClose;
    this.#resume = selector.from !== undefined;
    this.position = selector.from ?? position;
    this.ready = new Promise<void>((resolve, reject) => {
      this.#confirm = (error) => (error ? reject(error) : resolve());
    });
    // Marked handled: a refusal also reaches the client's 'error' listeners.
    this.ready.catch(() => {});
  }

  /** The server refused it for good. */
  refuse(error: Error): void {
    this.closed = true;
    this.#confirm(error);
  }

  /**
   * Starts a (re)subscription: returns the `from` to send (with one, the subscription catches up until `settle`),
   * and whether it resumes, even without a position to resume from (a server without a store sends none).
   */
  start(): [from: string | undefined, resuming: boolean] {
    const resuming = this.#resume;
    const from = resuming ? this.position : undefined;
    this.#resume = true;
    this.#catchingUp = from !== undefined;
    return [from, resuming];
  }

  /** The server's `subscribed`: the replay is over, and live events continue after `position`. */
  settle(position: string | undefined): void {
    this.#confirm();
    this.retries = 0;
    this.#catchingUp = false;
    this.pass(position);
  }

  /** A position every matching event up to which was sent (a heartbeat's, `subscribed`'s). */
  pass(position: string | undefined): void {
    if (!this.#catchingUp && isNewer(position, this.position)) this.position = position;
  }

  /** Delivers `event` if it matches, is newer than the position, and was not delivered yet. */
  offer(event: Envelope, position: string | undefined, replayed: boolean): void {
    if (this.closed || (this.#catchingUp && !replayed) || !matchesSelector(this.selector, event)) return;
    if (position !== undefined && !isNewer(position, this.position)) return;
    if (!this.#seen.add(event.id)) return;
    if (position !== undefined) this.position = position;
    safely(this.#listener, event, position === undefined ? { replayed } : { position, replayed });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.#onClose(this);
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }
}

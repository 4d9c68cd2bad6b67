import type { Envelope } from '@relaybus/core';
import type { ErrorMessage, EventMessage, ServerMessage, SubscribedMessage } from '../protocol';
import { ClientSubscription, isNewer, safely } from './client-subscription';
import { Connection } from './connection';
import { BridgeError } from './errors';
import { type BridgeClientOptions, type ResolvedOptions, resolveOptions } from './options';
import { reconnectDelay } from './reconnect-delay';
import { checkSelector } from './selector-match';
import type {
  BridgeClient,
  BridgeClientEvents,
  BridgeSelector,
  BridgeSubscription,
  ClientState,
  DeliveryInfo,
  SelectedEvent,
} from './types';

type Listener = (...args: never) => void;

/** The client: subscriptions, and the routing of events to them, over a {@link Connection}. */
class Client<TEvent extends Envelope> implements BridgeClient<TEvent> {
  readonly #connection: Connection;
  readonly #options: ResolvedOptions;
  readonly #subs = new Map<string, ClientSubscription>();
  /** Subscribe requests awaiting their reply: the subscription, and whether it resumes. */
  readonly #requests = new Map<string, [ClientSubscription, boolean]>();
  readonly #listeners = new Map<string, Set<Listener>>();
  #seq = 0;
  /** The newest position seen on any connection: where a new subscription starts. */
  #position: string | undefined;

  constructor(options: BridgeClientOptions) {
    this.#options = resolveOptions(options);
    this.#connection = new Connection(this.#options, {
      frame: (frame) => this.#receive(frame),
      state: (state) => {
        if (state !== 'open') this.#requests.clear();
        this.#emit('state', state);
      },
      error: (error) => this.#emit('error', error),
    });
    const { signal } = options;
    const abort = () => this.close();
    signal?.addEventListener('abort', abort);
    this.on('state', (state) => state === 'closed' && signal?.removeEventListener('abort', abort));
    if (signal?.aborted) this.close();
  }

  get state(): ClientState {
    return this.#connection.state;
  }

  subscribe<const TSelector extends BridgeSelector<TEvent>>(
    selector: TSelector,
    listener: (event: SelectedEvent<TEvent, TSelector>, info: DeliveryInfo) => void,
  ): BridgeSubscription {
    checkSelector(selector);
    const sub = new ClientSubscription(
      `s${++this.#seq}`,
      selector,
      listener as (event: Envelope, info: DeliveryInfo) => void,
      this.#options.dedupe,
      this.#position,
      (closed) => {
        if (this.#subs.delete(closed.id) && this.state === 'open') {
          this.#connection.send({ type: 'unsubscribe', id: `r${++this.#seq}`, sub: closed.id });
        }
      },
    );
    if (this.state === 'closed') sub.closed = true;
    else this.#subs.set(sub.id, sub);
    if (this.state === 'open') this.#subscribe(sub);
    return sub;
  }

  on<TName extends keyof BridgeClientEvents>(name: TName, listener: BridgeClientEvents[TName]): () => void {
    const listeners = this.#listeners.get(name) ?? new Set();
    this.#listeners.set(name, listeners.add(listener));
    return () => {
      listeners.delete(listener);
    };
  }

  close(): void {
    this.#connection.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  #emit<TName extends keyof BridgeClientEvents>(
    name: TName,
    ...args: Parameters<BridgeClientEvents[TName]>
  ): void {
    for (const listener of this.#listeners.get(name) ?? []) {
      safely(listener as (...all: typeof args) => void, ...args);
    }
  }

  #receive(frame: ServerMessage): void {
    switch (frame.type) {
      case 'welcome':
        this.#advance(frame.position);
        for (const sub of this.#subs.values()) this.#subscribe(sub);
        break;
      case 'event':
        this.#route(frame);
        break;
      case 'heartbeat':
        this.#advance(frame.position);
        for (const sub of this.#subs.values()) sub.pass(frame.position);
        break;
      case 'subscribed':
        this.#subscribed(frame);
        break;
      case 'lag':
        this.#emit('lag', frame);
        for (const sub of this.#subs.values()) this.#emit('resync', sub, 'lag');
        break;
      case 'error':
        this.#failed(frame);
        break;
    }
  }

  #subscribe(sub: ClientSubscription): void {
    const id = `r${++this.#seq}`;
    const [from, resuming] = sub.start();
    const { from: _ignored, ...selector } = sub.selector;
    this.#requests.set(id, [sub, resuming]);
    this.#connection.send({
      ...selector,
      type: 'subscribe',
      id,
      sub: sub.id,
      ...(from !== undefined && { from }),
    });
  }

  #subscribed(frame: SubscribedMessage): void {
    const [sub, resuming] = this.#requests.get(frame.id) ?? [];
    this.#requests.delete(frame.id);
    this.#advance(frame.position);
    if (!sub || sub.closed) return;
    sub.settle(frame.position);
    // Resuming without a position (no store) cannot resume either: the server says so, without a reason.
    if (resuming && !frame.resumed) this.#emit('resync', sub, frame.reason);
  }

  /** An `error` frame. A refused subscription is closed, or retried later when the server says it may work. */
  #failed(frame: ErrorMessage): void {
    const [sub] = (frame.id !== undefined && this.#requests.get(frame.id)) || [];
    if (sub) {
      this.#requests.delete(frame.id as string);
      const { generation } = this.#connection;
      if (frame.retry) {
        const delay = reconnectDelay(0, sub.retries++, undefined, this.#options) as number;
        const retry = () =>
          this.#connection.generation === generation && this.state === 'open' && !sub.closed;
        setTimeout(() => retry() && this.#subscribe(sub), delay);
      } else {
        this.#subs.delete(sub.id);
      }
    }
    const subscription = sub && { subscription: sub };
    const error = new BridgeError(frame.code, frame.message, { retry: frame.retry, ...subscription });
    if (sub && !frame.retry) sub.refuse(error);
    this.#emit('error', error);
  }

  /** A replayed event goes to the subscription it was replayed for; a live one to every subscription it matches. */
  #route({ event, position, sub }: EventMessage): void {
    const envelope = event as Envelope;
    if (typeof envelope?.type !== 'string') return;
    if (sub !== undefined) {
      this.#subs.get(sub)?.offer(envelope, position, true);
      return;
    }
    this.#advance(position);
    for (const live of this.#subs.values()) live.offer(envelope, position, false);
  }

  #advance(position: string | undefined): void {
    if (isNewer(position, this.#position)) this.#position = position;
  }
}

/**
 * Connects to a relaybus bridge and keeps the connection alive: it reconnects with backoff (or as the server
 * advises), resumes every subscription after the last position it saw so that no event is missed or repeated,
 * refreshes the token before it expires, and follows the page's lifecycle (back/forward cache, visibility,
 * online/offline). No runtime dependency; runs in browsers and Node 20+.
 *
 * @throws {@link BridgeError} `invalid_option` for a malformed `url`, `reconnect` or `dedupe`, or when there is no
 * WebSocket class.
 * @example
 * ```ts
 * import { createBridgeClient } from '@relaybus/ws-bridge/client';
 *
 * const client = createBridgeClient<AppEvent>({ url: '/bridge', token: () => auth.accessToken() });
 * client.on('resync', () => refetchTasks());
 * client.subscribe({ pattern: 'task.*', metadata: { projectId } }, (event) => applyTaskEvent(event));
 * ```
 */
export function createBridgeClient<TEvent extends Envelope = Envelope>(
  options: BridgeClientOptions,
): BridgeClient<TEvent> {
  return new Client<TEvent>(options);
}

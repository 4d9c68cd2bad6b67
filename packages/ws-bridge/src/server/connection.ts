import type { ServerMessage } from '../protocol';
import type { SourceEvent } from './event-source';
import { encodeEvent, encodeMessage, encodeSseEvent, encodeSseMessage } from './frames';
import type { AuthRequest } from './options';
import type { CompiledSelector } from './selector';

/**
 * How a connection's frames leave: a WebSocket or a Server-Sent Events response.
 *
 * @example
 * ```ts
 * const channel: Channel = { kind: 'sse', write: (frame) => res.write(frame), queuedBytes: () => res.writableLength, end, terminate, ping };
 * ```
 */
export interface Channel {
  readonly kind: 'ws' | 'sse';
  /** Queues a frame. */
  write(frame: Buffer): void;
  /** Bytes waiting in the process to be written. */
  queuedBytes(): number;
  /** Ends the connection on purpose, with a close code (ignored by SSE). */
  end(code: number, reason: string): void;
  /** Drops the connection at once. */
  terminate(): void;
  /** Sends a transport-level ping (WebSocket); the answer sets `alive`. */
  ping(): void;
}

/** One subscription of a connection. */
export interface Subscription {
  readonly id: string;
  readonly selector: CompiledSelector;
  /** Live events reach it; `false` while it replays from the store. */
  live: boolean;
  /** It has seen every matching event up to this position: live events at or before it are skipped. */
  cursor: string | undefined;
}

/**
 * Frames of one event, encoded once per fan-out for each kind of connection that wants it.
 *
 * @example
 * ```ts
 * const frames = new EventFrames(event);
 * connection.deliver(event.position, frames.for(connection.kind));
 * ```
 */
export class EventFrames {
  readonly #event: SourceEvent;
  #ws: Buffer | undefined;
  #sse: Buffer | undefined;

  constructor(event: SourceEvent) {
    this.#event = event;
  }

  /** The frame for this kind of connection. */
  for(kind: 'ws' | 'sse'): Buffer {
    if (kind === 'ws') {
      this.#ws ??= encodeEvent(this.#event);
      return this.#ws;
    }
    this.#sse ??= encodeSseEvent(this.#event);
    return this.#sse;
  }
}

/** What a connection needs from its bridge. */
export interface ConnectionLimits {
  readonly policy: 'disconnect' | 'drop';
  readonly maxBytes: number;
  readonly maxEvents: number;
  readonly messagesPerSecond: number;
}

/**
 * A connection's subscriptions by id, with an array of them kept for the per-event loop.
 *
 * @example
 * ```ts
 * const subscriptions = new SubscriptionMap();
 * for (const subscription of subscriptions.list()) subscription.live;
 * ```
 */
export class SubscriptionMap extends Map<string, Subscription> {
  #list: Subscription[] | undefined;

  override set(id: string, subscription: Subscription): this {
    this.#list = undefined;
    return super.set(id, subscription);
  }

  override delete(id: string): boolean {
    this.#list = undefined;
    return super.delete(id);
  }

  override clear(): void {
    this.#list = undefined;
    super.clear();
  }

  /** The subscriptions as an array (rebuilt only after a change). */
  list(): ReadonlyArray<Subscription> {
    this.#list ??= [...this.values()];
    return this.#list;
  }
}

let nextId = 0;

/**
 * One client connection: its principal, subscriptions and bounded send queue.
 *
 * @example
 * ```ts
 * const connection = new Connection(channel, limits, onOverflow);
 * ```
 */
export class Connection<TPrincipal = unknown> {
  readonly id: number = ++nextId;
  readonly channel: Channel;
  readonly subscriptions: SubscriptionMap = new SubscriptionMap();
  principal: TPrincipal | undefined;
  /** Epoch ms when the credentials expire. */
  expiresAt: number | undefined;
  /** No frame went out since the last heartbeat tick. */
  quiet = true;
  /** Answered the last WebSocket ping. */
  alive = true;
  closed = false;
  /** Malformed or unknown frames received. */
  badFrames = 0;
  /** Events skipped under the `drop` policy since the last `lag` frame. */
  dropped = 0;
  /** Position of the last event frame queued. */
  lastPosition: string | undefined;
  /** What `authenticate` saw at connect time (a `hello` or `refresh` adds its token to it). */
  request: Omit<AuthRequest, 'phase' | 'token'> | undefined;
  /** Closes the connection if `hello` does not come in time. */
  helloTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #limits: ConnectionLimits;
  readonly #onOverflow: (connection: Connection<TPrincipal>) => void;
  /** Frames queued since the channel last had nothing waiting in the process (the kernel took the rest). */
  #backlog = 0;
  #tokens: number;
  #refilledAt = Date.now();

  constructor(
    channel: Channel,
    limits: ConnectionLimits,
    onOverflow: (connection: Connection<TPrincipal>) => void,
  ) {
    this.channel = channel;
    this.#limits = limits;
    this.#onOverflow = onOverflow;
    this.#tokens = limits.messagesPerSecond;
  }

  get kind(): 'ws' | 'sse' {
    return this.channel.kind;
  }

  /** Frames waiting in the process to be written: those queued since the channel's buffer was last empty. */
  get pendingFrames(): number {
    if (this.channel.queuedBytes() === 0) this.#backlog = 0;
    return this.#backlog;
  }

  /** Whether a live event goes to this connection: a live subscription matches it and has not seen it yet. */
  wants(event: SourceEvent): boolean {
    if (this.closed || this.principal === undefined) return false;
    const position = event.position;
    // An array, not the map's iterator: this runs for every connection and every event.
    for (const subscription of this.subscriptions.list()) {
      if (!subscription.live) continue;
      if (position !== undefined && subscription.cursor !== undefined && position <= subscription.cursor)
        continue;
      if (subscription.selector.matches(event)) return true;
    }
    return false;
  }

  /** Whether one more frame fits the queue bounds. */
  hasRoom(size: number): boolean {
    return (
      this.pendingFrames < this.#limits.maxEvents &&
      this.channel.queuedBytes() + size <= this.#limits.maxBytes
    );
  }

  /** Whether the queue drained to half its bounds (a `lag` notice may follow a drop). */
  drained(): boolean {
    return (
      this.pendingFrames * 2 <= this.#limits.maxEvents &&
      this.channel.queuedBytes() * 2 <= this.#limits.maxBytes
    );
  }

  /** Queues an event frame under the backpressure policy. Returns whether it was queued. */
  deliver(position: string | undefined, frame: Buffer): boolean {
    if (this.closed) return false;
    // The common case needs no bounds check: nothing waits in the process, so the frame goes to the kernel.
    if (this.dropped > 0 || this.channel.queuedBytes() > 0) {
      if (this.dropped > 0 && this.drained()) this.#sendLag();
      if (this.dropped > 0 || !this.hasRoom(frame.length)) {
        if (this.#limits.policy === 'drop') {
          this.dropped++;
          return false;
        }
        this.#onOverflow(this);
        return false;
      }
    }
    this.#write(frame);
    if (position !== undefined) this.lastPosition = position;
    return true;
  }

  /** Queues a replayed event frame: the replay waits for room itself (see `drained`), so no policy applies. */
  push(position: string | undefined, frame: Buffer): void {
    if (this.closed) return;
    this.#write(frame);
    if (position !== undefined) this.lastPosition = position;
  }

  /** Whether any subscription still replays (no heartbeat position may be sent meanwhile). */
  replaying(): boolean {
    for (const subscription of this.subscriptions.list()) if (!subscription.live) return true;
    return false;
  }

  /** Sends a protocol message (replies, heartbeats, errors), outside the event bounds. */
  send(message: ServerMessage): void {
    if (this.closed) return;
    this.#write(this.channel.kind === 'ws' ? encodeMessage(message) : encodeSseMessage(message));
  }

  /** Sends a frame encoded once for many connections (the shared heartbeat). */
  sendShared(frame: Buffer): void {
    if (!this.closed) this.#write(frame);
  }

  /** Sends the `lag` notice once the queue drained after drops. */
  flushLag(): void {
    if (this.dropped > 0 && !this.closed && this.drained()) this.#sendLag();
  }

  /** Takes one token of the client frame rate; `false` when the client sends too fast. */
  takeToken(): boolean {
    const now = Date.now();
    const rate = this.#limits.messagesPerSecond;
    this.#tokens = Math.min(rate, this.#tokens + ((now - this.#refilledAt) * rate) / 1_000);
    this.#refilledAt = now;
    if (this.#tokens < 1) return false;
    this.#tokens--;
    return true;
  }

  #sendLag(): void {
    const dropped = this.dropped;
    this.dropped = 0;
    this.send(
      this.lastPosition === undefined
        ? { type: 'lag', dropped }
        : { type: 'lag', dropped, from: this.lastPosition },
    );
  }

  #write(frame: Buffer): void {
    this.quiet = false;
    if (this.channel.queuedBytes() === 0) this.#backlog = 0;
    this.channel.write(frame);
    // Written straight through to the kernel, it waits nowhere in the process; otherwise it is one more in line.
    if (this.channel.queuedBytes() > 0) this.#backlog++;
  }
}

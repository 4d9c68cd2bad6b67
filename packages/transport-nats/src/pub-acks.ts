import {
  createInbox,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  type Subscription,
} from '@nats-io/transport-node';

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
  /** Epoch ms after which the publish fails with a timeout. */
  readonly deadline: number;
}

/** An error named like the client's own, so `natsError` maps it the same way. */
function clientError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

/**
 * JetStream publishing on one reply inbox: each message is a core NATS publish with a reply subject under the inbox,
 * and the stream's acknowledgement (`{ stream, seq }`, or `{ error }`) settles it. This is what `js.publish()` does,
 * minus the per-request bookkeeping that dominates its cost (a deferred, a timer and error objects with stack traces
 * per message): here one sweep timer fails every publish left unanswered past its deadline.
 */
export class PubAcks {
  readonly #prefix = createInbox();
  readonly #waiting = new Map<string, Waiter>();
  #subscription: Subscription | undefined;
  #connection: NatsConnection | undefined;
  #sweeper: ReturnType<typeof setInterval> | undefined;
  #next = 0;

  /**
   * Publishes every message and resolves once the stream acknowledged all of them; rejects with the first failure
   * (a refusal, no JetStream answering, or no answer within `timeoutMs`, give or take a quarter of it). Messages
   * already sent are not recalled.
   */
  publishAll(
    nc: NatsConnection,
    messages: ReadonlyArray<{
      readonly subject: string;
      readonly data: Uint8Array;
      readonly headers: MsgHdrs;
    }>,
    timeoutMs: number,
  ): Promise<void> {
    this.#listen(nc);
    this.#sweep(timeoutMs);
    const deadline = Date.now() + timeoutMs;
    const acks = messages.map(
      ({ subject, data, headers }) =>
        new Promise<void>((resolve, reject) => {
          const id = String(this.#next++);
          this.#waiting.set(id, { resolve, reject, deadline });
          try {
            nc.publish(subject, data, { reply: `${this.#prefix}.${id}`, headers });
          } catch (error) {
            this.#waiting.delete(id);
            reject(error instanceof Error ? error : new Error(String(error)));
          }
        }),
    );
    return acks.length === 1 ? (acks[0] as Promise<void>) : Promise.all(acks).then(() => undefined);
  }

  /** Rejects everything still waiting (the connection is closing). */
  close(): void {
    this.#subscription?.unsubscribe();
    this.#subscription = undefined;
    if (this.#sweeper !== undefined) clearInterval(this.#sweeper);
    this.#sweeper = undefined;
    const waiting = [...this.#waiting.values()];
    this.#waiting.clear();
    for (const waiter of waiting) waiter.reject(clientError('ClosedConnectionError', 'connection closed'));
  }

  #listen(nc: NatsConnection): void {
    if (this.#subscription !== undefined && this.#connection === nc && !this.#subscription.isClosed()) return;
    this.#connection = nc;
    this.#subscription = nc.subscribe(`${this.#prefix}.*`, {
      callback: (error, message) => {
        if (error === null) this.#settle(message);
      },
    });
  }

  /** Runs while anything waits: fails publishes past their deadline. */
  #sweep(timeoutMs: number): void {
    if (this.#sweeper !== undefined) return;
    this.#sweeper = setInterval(
      () => {
        const now = Date.now();
        for (const [id, waiter] of this.#waiting) {
          if (waiter.deadline > now) continue;
          this.#waiting.delete(id);
          waiter.reject(
            clientError('TimeoutError', `no acknowledgement from JetStream within ${timeoutMs} ms`),
          );
        }
        if (this.#waiting.size === 0 && this.#sweeper !== undefined) {
          clearInterval(this.#sweeper);
          this.#sweeper = undefined;
        }
      },
      Math.max(10, Math.floor(timeoutMs / 4)),
    );
    this.#sweeper.unref?.();
  }

  #settle(message: Msg): void {
    const id = message.subject.slice(this.#prefix.length + 1);
    const waiter = this.#waiting.get(id);
    if (waiter === undefined) return;
    this.#waiting.delete(id);
    if (message.headers?.code === 503) {
      waiter.reject(clientError('NoResponders', 'no JetStream stream answered (is JetStream up?)'));
      return;
    }
    const reply = message.json<{ readonly error?: { readonly description?: string } }>();
    if (reply.error === undefined) waiter.resolve();
    else
      waiter.reject(
        clientError('JetStreamError', reply.error.description ?? 'JetStream refused the message'),
      );
  }
}

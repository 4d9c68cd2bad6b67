import { randomBytes } from 'node:crypto';
import { type DeadLetterInput, InvalidEnvelopeError, TransportError } from '@relaybus/core';
import { entryFields, type InvalidEntry } from '../codec';
import { GIVE_BACK_SCRIPT, NACK_DELAY_SCRIPT } from '../scripts';
import { AckBatcher } from './ack-batcher';
import type { ConsumerContext } from './consumer-context';
import type { Dispatcher } from './dispatcher';
import type { Item, PartitionState } from './partition';
import type { RedisDelivery, Settler } from './redis-delivery';

const DONE = { kind: 'done' } as const;
const RETRY = { kind: 'retry' } as const;
const DROP = { kind: 'drop' } as const;

/** Member of a topic's delayed set: `partition|nonce|[fields...]`. */
export function delayedMember(partition: number, nonce: string, fields: ReadonlyArray<string>): string {
  return `${partition}|${nonce}|${JSON.stringify(fields)}`;
}

/** A short random string. */
export function nonce(): string {
  return randomBytes(9).toString('base64url');
}

/**
 * The Redis side of settling deliveries: batched `XACK`s, `XCLAIM ... RETRYCOUNT` for immediate redelivery
 * (so the attempt count survives a crash), an atomic ack-and-schedule script for nacks with a delay, and the
 * dead-letter stream. Settling never rejects: a failed write is logged, and the message comes back (at least
 * once) instead. Whatever claims an entry for this consumer does so only while it is still this consumer's, so a
 * member that lost its lease cannot pull entries away from the next owner.
 */
export class RedisSettler implements Settler {
  readonly #context: ConsumerContext;
  readonly #batcher: AckBatcher;
  readonly #scheduleDue: (atMs: number) => void;
  readonly #writes = new Set<Promise<void>>();
  #dispatcher: Dispatcher | undefined;

  constructor(context: ConsumerContext, scheduleDue: (atMs: number) => void) {
    this.#context = context;
    this.#batcher = new AckBatcher(context.redis, context.group, (written) => this.#track(written, 'ack'));
    this.#scheduleDue = scheduleDue;
  }

  attach(dispatcher: Dispatcher): void {
    this.#dispatcher = dispatcher;
  }

  ack(delivery: RedisDelivery): Promise<void> {
    const { partition, entryId } = delivery.item;
    const written = this.#batcher.ack(partition.stream, entryId);
    this.#dispatcher?.finish(delivery, DONE);
    return written;
  }

  nack(delivery: RedisDelivery, delayMs: number): Promise<void> {
    if (delayMs > 0) return this.#nackLater(delivery, delayMs);
    return this.#retryNow(delivery);
  }

  deadLetter(delivery: RedisDelivery, input: DeadLetterInput): Promise<void> {
    const { item } = delivery;
    const context = this.#context;
    const written = context.deadLetters
      .add({
        messageId: item.message.id,
        topic: item.message.topic,
        key: item.message.key,
        bodyText: item.bodyText,
        group: context.namedGroup,
        reason: input.reason,
        error: input.error,
        attempts: delivery.attempt,
        firstAttemptAt: delivery.firstAttemptAt,
        lastAttemptAt: delivery.startedAt,
      })
      .then(() => this.#batcher.ack(item.partition.stream, item.entryId));
    this.#dispatcher?.finish(delivery, DONE);
    return this.#track(written, 'dead-letter');
  }

  /** A delivery's visibility timeout ran out: abort it and hand the message out again. */
  expire(delivery: RedisDelivery, visibilityTimeoutMs: number): void {
    const reason = new TransportError(
      'redis',
      `message ${JSON.stringify(delivery.message.id)} was not settled within visibilityTimeoutMs ${visibilityTimeoutMs}; it is handed out again`,
    );
    if (delivery.takeBack(reason)) void this.#retryNow(delivery);
  }

  /** Acks an entry that is not for this subscriber (a retry or redrive addressed to another group). */
  skip(partition: PartitionState, entryId: string): void {
    void this.#batcher.ack(partition.stream, entryId);
  }

  /** Dead-letters a stream entry the transport cannot decode, and acks it: the consumer keeps going. */
  reject(partition: PartitionState, entryId: string, entry: InvalidEntry, attempt: number): void {
    const context = this.#context;
    const now = Date.now();
    const error = new InvalidEnvelopeError(entry.problem);
    context.logger?.warn('redis transport dead-lettered an undecodable stream entry', {
      stream: partition.stream,
      entryId,
      problem: entry.problem,
    });
    const written = context.deadLetters
      .add({
        messageId: entry.messageId,
        topic: partition.topic,
        key: entry.key,
        bodyText: entry.raw,
        group: context.namedGroup,
        reason: 'INVALID_ENVELOPE',
        error: { name: error.name, message: error.message, code: error.code },
        attempts: attempt,
        firstAttemptAt: now,
        lastAttemptAt: now,
      })
      .then(() => this.#batcher.ack(partition.stream, entryId));
    void this.#track(written, 'dead-letter');
  }

  /**
   * Sets the delivery count of entries taken out of this subscriber's hands before they were handed out, so the
   * next owner's claim counts the attempt they were going to be.
   */
  giveBack(entries: ReadonlyArray<{ stream: string; entryId: string; count: number }>): Promise<void> {
    const byStream = new Map<string, Array<string | number>>();
    for (const { stream, entryId, count } of entries) {
      const args = byStream.get(stream);
      if (args === undefined) byStream.set(stream, [entryId, count]);
      else args.push(entryId, count);
    }
    const writes = [...byStream].map(([stream, pairs]) => this.#reclaimOwn(stream, pairs));
    return this.#track(Promise.all(writes), 'give back');
  }

  /** {@link RedisSettler.giveBack} for queued items: each keeps the attempt it was going to be. */
  giveBackItems(items: ReadonlyArray<Item>): void {
    if (items.length === 0) return;
    void this.giveBack(
      items.map((item) => ({
        stream: item.partition.stream,
        entryId: item.entryId,
        count: item.attempt - item.baseAttempt,
      })),
    );
  }

  /** Resolves once every settle write started so far finished (or failed). */
  async flush(): Promise<void> {
    while (this.#writes.size > 0) await Promise.all([...this.#writes]);
  }

  #retryNow(delivery: RedisDelivery): Promise<void> {
    const { item } = delivery;
    const local = this.#dispatcher?.redelivers(item.partition) === true;
    const count = item.attempt + 1 - item.baseAttempt + (local ? 1 : 0);
    const written = this.#reclaimOwn(item.partition.stream, [item.entryId, count]);
    this.#dispatcher?.finish(delivery, local ? RETRY : DROP);
    return this.#track(written, 'nack');
  }

  #nackLater(delivery: RedisDelivery, delayMs: number): Promise<void> {
    const { item } = delivery;
    const context = this.#context;
    const key = item.message.key;
    const retryNonce = nonce();
    const dueAt = Date.now() + delayMs;
    const fields = entryFields(item.message.id, key, item.bodyText, {
      group: context.group,
      attempt: item.attempt + 1,
      firstAttemptAt: delivery.firstAttemptAt,
      nonce: retryNonce,
    });
    const written = NACK_DELAY_SCRIPT.run(
      context.redis,
      [item.partition.stream, context.keys.delayed(item.message.topic)],
      [
        context.group,
        item.entryId,
        dueAt,
        delayedMember(item.partition.index, retryNonce, fields),
        context.member,
      ],
    );
    this.#dispatcher?.finish(delivery, key === undefined ? DONE : { kind: 'hold', nonce: retryNonce });
    this.#scheduleDue(dueAt);
    return this.#track(written, 'nack');
  }

  /** Sets the delivery counts of `pairs` (entry id, count) of `stream` that this consumer still holds. */
  #reclaimOwn(stream: string, pairs: ReadonlyArray<string | number>): Promise<unknown> {
    const { redis, group, member } = this.#context;
    return GIVE_BACK_SCRIPT.run(redis, [stream], [group, member, ...pairs]);
  }

  #track(write: Promise<unknown>, what: string): Promise<void> {
    const tracked: Promise<void> = write.then(
      () => undefined,
      (error: unknown) => {
        this.#context.logger?.error(`redis transport: ${what} failed; the message will be redelivered`, {
          error,
        });
      },
    );
    this.#writes.add(tracked);
    void tracked.finally(() => this.#writes.delete(tracked));
    return tracked;
  }
}

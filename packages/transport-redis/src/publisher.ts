import {
  InvalidOptionError,
  PayloadTooLargeError,
  TransportError,
  type TransportMessage,
} from '@relaybus/core';
import type { ChainableCommander } from 'ioredis';
import { encodeBody, entryFields } from './codec';
import { isCluster, type RedisClient, whenReady } from './connection';
import { delayedMember, nonce } from './consumer/settler';
import { type KeySpace, partitionOfKey, topicProblem } from './names';
import type { ResolvedOptions } from './options';
import type { TopicRegistry } from './topic-registry';

interface Prepared {
  readonly id: string;
  readonly topic: string;
  readonly key: string | undefined;
  readonly bodyText: string;
  readonly delayMs: number;
}

const WHERE = 'redisTransport.publish()';

/** Validates and serialises a whole batch before anything is written. */
function prepare(messages: ReadonlyArray<TransportMessage>, maxPayloadBytes: number): Prepared[] {
  if (!Array.isArray(messages)) throw new InvalidOptionError(WHERE, 'messages', 'must be an array');
  const prepared: Prepared[] = [];
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i] as TransportMessage | undefined;
    if (typeof message !== 'object' || message === null) {
      throw new InvalidOptionError(WHERE, `messages[${i}]`, 'must be a message object');
    }
    const { id, topic, key, delayMs } = message;
    if (typeof id !== 'string' || id.length === 0) {
      throw new InvalidOptionError(WHERE, `messages[${i}].id`, 'must be a non-empty string');
    }
    const problem = topicProblem(topic);
    if (problem !== undefined) throw new InvalidOptionError(WHERE, `messages[${i}].topic`, problem);
    if (key !== undefined && typeof key !== 'string') {
      throw new InvalidOptionError(WHERE, `messages[${i}].key`, 'must be a string when given');
    }
    if (delayMs !== undefined && (typeof delayMs !== 'number' || !Number.isFinite(delayMs) || delayMs < 0)) {
      throw new InvalidOptionError(
        WHERE,
        `messages[${i}].delayMs`,
        `must be a finite number >= 0, got ${String(delayMs)}`,
      );
    }
    const bodyText = encodeBody(message.body);
    if (bodyText === undefined) {
      throw new InvalidOptionError(WHERE, `messages[${i}].body`, 'must be JSON-serialisable');
    }
    // A UTF-16 code unit is at most 3 UTF-8 bytes: short bodies need no byte count.
    if (bodyText.length * 3 > maxPayloadBytes) {
      const size = Buffer.byteLength(bodyText);
      if (size > maxPayloadBytes) {
        throw new PayloadTooLargeError(
          'redis',
          { id, index: i, sizeBytes: size },
          maxPayloadBytes,
          'raise maxPayloadBytes',
        );
      }
    }
    prepared.push({ id, topic, key, bodyText, delayMs: delayMs ?? 0 });
  }
  return prepared;
}

interface OpenPipeline {
  readonly pipeline: ChainableCommander;
  size: number;
}

interface Waiter {
  readonly parts: ReadonlyArray<{
    readonly open: OpenPipeline;
    readonly start: number;
    readonly count: number;
  }>;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

type ExecResult = Array<[Error | null, unknown]> | Error;

/**
 * Writes batches: one `XADD` per message into its partition stream (or a `ZADD` into the topic's delayed set).
 * Every publish started in the same event-loop turn joins one pipeline (one per topic on a Cluster), so a batch,
 * and a burst of single-message publishes, is one round trip.
 */
export class Publisher {
  readonly #redis: RedisClient;
  readonly #keys: KeySpace;
  readonly #registry: TopicRegistry;
  readonly #options: ResolvedOptions;
  readonly #next = new Map<string, number>();
  #open = new Map<string, OpenPipeline>();
  #waiting: Waiter[] = [];
  #flushScheduled = false;

  constructor(redis: RedisClient, keys: KeySpace, registry: TopicRegistry, options: ResolvedOptions) {
    this.#redis = redis;
    this.#keys = keys;
    this.#registry = registry;
    this.#options = options;
  }

  async publish(messages: ReadonlyArray<TransportMessage>): Promise<void> {
    const prepared = prepare(messages, this.#options.maxPayloadBytes);
    if (prepared.length === 0) return;
    if (this.#redis.status !== 'ready') await whenReady(this.#redis, this.#options.connectTimeoutMs);
    for (const { topic } of prepared) {
      if (this.#registry.cached(topic) === undefined) await this.#ensure(topic);
    }
    await new Promise<void>((resolve, reject) => this.#enqueue(prepared, resolve, reject));
  }

  #enqueue(prepared: ReadonlyArray<Prepared>, resolve: () => void, reject: (error: unknown) => void): void {
    const now = Date.now();
    let parts: Waiter['parts'];
    if (isCluster(this.#redis)) {
      // One pipeline per topic: its keys share the topic's hash tag.
      const byPipeline = new Map<OpenPipeline, { open: OpenPipeline; start: number; count: number }>();
      for (const message of prepared) {
        const open = this.#pipelineFor(message.topic);
        const part = byPipeline.get(open) ?? { open, start: open.size, count: 0 };
        byPipeline.set(open, part);
        this.#append(open, message, now);
        part.count++;
      }
      parts = [...byPipeline.values()];
    } else {
      const open = this.#pipelineFor('');
      const start = open.size;
      for (const message of prepared) this.#append(open, message, now);
      parts = [{ open, start, count: prepared.length }];
    }
    this.#waiting.push({ parts, resolve, reject });
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => this.#flush());
    }
  }

  #pipelineFor(slot: string): OpenPipeline {
    let open = this.#open.get(slot);
    if (open === undefined) {
      open = { pipeline: this.#redis.pipeline(), size: 0 };
      this.#open.set(slot, open);
    }
    return open;
  }

  #append(open: OpenPipeline, message: Prepared, now: number): void {
    this.#add(open.pipeline, message, this.#registry.cached(message.topic) ?? 1, now);
    open.size++;
  }

  #flush(): void {
    const open = this.#open;
    const waiting = this.#waiting;
    this.#open = new Map();
    this.#waiting = [];
    this.#flushScheduled = false;
    const batches = [...open.values()];
    // One timer per flush, not per publish call: every waiter of a flush was enqueued in the same turn.
    const timeoutMs = this.#options.publishTimeoutMs;
    const timer = setTimeout(() => {
      const error = new TransportError(
        'redis',
        `publishing was not confirmed within publishTimeoutMs ${timeoutMs}; the batch may or may not have been written (a retry can duplicate it)`,
      );
      for (const waiter of waiting) waiter.reject(error);
    }, timeoutMs);
    Promise.all(
      batches.map((batch) =>
        batch.pipeline.exec().then(
          (result): ExecResult => result ?? [],
          (error: unknown): ExecResult => (error instanceof Error ? error : new Error(String(error))),
        ),
      ),
    ).then((outcomes) => {
      clearTimeout(timer);
      const results = new Map<OpenPipeline, ExecResult>();
      for (const [index, batch] of batches.entries()) results.set(batch, outcomes[index] ?? []);
      for (const waiter of waiting) settle(waiter, results);
    });
  }

  #add(pipeline: ChainableCommander, message: Prepared, partitionCount: number, now: number): void {
    const { topic, key, id, bodyText, delayMs } = message;
    let partition: number;
    if (key !== undefined) {
      partition = partitionOfKey(key, partitionCount);
    } else {
      partition = this.#next.get(topic) ?? 0;
      this.#next.set(topic, (partition + 1) % partitionCount);
    }
    const fields = entryFields(id, key, bodyText);
    if (delayMs > 0) {
      pipeline.zadd(this.#keys.delayed(topic), now + delayMs, delayedMember(partition, nonce(), fields));
    } else {
      pipeline.xadd(this.#keys.stream(topic, partition), '*', ...fields);
    }
  }

  async #ensure(topic: string): Promise<number> {
    try {
      return await this.#registry.ensure(topic);
    } catch (error) {
      throw new TransportError('redis', `registering topic "${topic}" failed: ${describe(error)}`, {
        cause: error,
      });
    }
  }
}

/** Resolves a publish call, or rejects it with the first failure among its commands. */
function settle(waiter: Waiter, results: ReadonlyMap<OpenPipeline, ExecResult>): void {
  for (const part of waiter.parts) {
    const error = failure(results.get(part.open) ?? [], part.start, part.count);
    if (error !== undefined) {
      waiter.reject(new TransportError('redis', `publishing failed: ${describe(error)}`, { cause: error }));
      return;
    }
  }
  waiter.resolve();
}

/** The first error among a publish call's commands in a pipeline result. */
function failure(result: ExecResult | undefined, start: number, count: number): Error | undefined {
  if (result === undefined) return new Error('pipeline result missing');
  if (result instanceof Error) return result;
  for (let i = start; i < start + count; i++) {
    const error = result[i]?.[0];
    if (error) return error;
  }
  return undefined;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

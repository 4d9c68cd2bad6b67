import type { Logger } from '@relaybus/core';
import { duplicateForReading, pause, type RedisClient, whenReady } from '../connection';

/** Pause after a failed blocking wait before waiters are let go (they claim, then wait again). */
const ERROR_PAUSE_MS = 250;
/** How long a block waits for its connection to be ready before it counts as failed (and waiters poll). */
const READY_WAIT_MS = 500;

/** How long a short claim or a block marks a queue as having an idle worker: longer than a block lasts. */
export function idleTtlMs(blockMs: number): number {
  return Math.round(blockMs) + 1_000;
}

/** What a listener needs to know. */
export interface WakeListenerOptions {
  /** The user's client, duplicated for the blocking connection (and used to hand back a token nobody took). */
  readonly redis: RedisClient;
  /** The queue's wake list. */
  readonly key: string;
  /** The queue's idle flag, set before every block for longer than the block lasts. */
  readonly idleKey: string;
  readonly queue: string;
  readonly blockMs: number;
  readonly connectTimeoutMs: number;
  readonly logger: Logger;
}

/**
 * The idle workers of one queue in this process, waiting for a job. While any waits, one loop blocks on the queue's
 * wake list (`BLPOP`) on a connection of its own, after setting the queue's idle flag; every script that makes a job
 * claimable pushes a token there while the flag is set, so a waiting worker wakes within a round trip instead of a
 * polling interval, and busy queues pay nothing for it. A token pops one blocked connection, so
 * one job wakes one process, not all of them; a token popped after the last waiter here gave up is pushed back for
 * another process. `close()` ends the block at once by closing the connection.
 */
export class WakeListener {
  readonly #options: WakeListenerOptions;
  readonly #waiters = new Set<() => void>();
  #connection: RedisClient | undefined;
  #looping = false;
  #closed = false;
  #failing = false;

  constructor(options: WakeListenerOptions) {
    this.#options = options;
  }

  /** Resolves on a token, after `timeoutMs`, when `signal` aborts, or on close. */
  wait(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.#closed || signal?.aborted === true) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, timeoutMs));
      this.#waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
      void this.#loop();
    });
  }

  /** Lets every waiter go and closes the blocking connection (which ends a block in progress). */
  close(): void {
    this.#closed = true;
    this.#wakeAll();
    this.#connection?.disconnect();
    this.#connection = undefined;
  }

  async #loop(): Promise<void> {
    if (this.#looping) return;
    this.#looping = true;
    try {
      while (this.#waiters.size > 0 && !this.#closed) await this.#blockOnce();
    } finally {
      this.#looping = false;
    }
  }

  async #blockOnce(): Promise<void> {
    const { key, idleKey, blockMs, redis } = this.#options;
    try {
      const connection = await this.#connect();
      // Sent together: the flag is set before the block starts, and outlives it.
      const [, reply] = await Promise.all([
        connection.set(idleKey, '1', 'PX', idleTtlMs(blockMs)),
        connection.blpop(key, blockMs / 1_000) as Promise<unknown>,
      ]);
      this.#recovered();
      if (!Array.isArray(reply)) return;
      if (this.#waiters.size > 0) this.#wakeAll();
      // Nobody here waits any more: the token is another process's.
      else if (!this.#closed) await redis.lpush(key, '1');
    } catch (error) {
      if (this.#closed) return;
      this.#failed(error);
      await pause(ERROR_PAUSE_MS);
      this.#wakeAll();
    }
  }

  async #connect(): Promise<RedisClient> {
    let connection = this.#connection;
    if (connection === undefined) {
      connection = duplicateForReading(this.#options.redis);
      connection.on('error', () => {});
      this.#connection = connection;
    }
    // Not the full connect timeout: while this connection is down (a Redis restart, its reconnect backoff), waiters
    // must poll every ERROR_PAUSE_MS as promised, not sit out their whole idle wait behind this await.
    await whenReady(connection, Math.min(this.#options.connectTimeoutMs, READY_WAIT_MS));
    return connection;
  }

  #wakeAll(): void {
    for (const wake of [...this.#waiters]) wake();
  }

  #failed(error: unknown): void {
    if (this.#failing) return;
    this.#failing = true;
    this.#options.logger.warn(
      `redis job backend: waiting for jobs of queue "${this.#options.queue}" failed; idle workers poll every ${ERROR_PAUSE_MS} ms until it works again`,
      { error },
    );
  }

  #recovered(): void {
    if (!this.#failing) return;
    this.#failing = false;
    this.#options.logger.info(
      `redis job backend: waiting for jobs of queue "${this.#options.queue}" works again`,
    );
  }
}

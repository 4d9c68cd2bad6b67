import type { Logger } from '@relaybus/core';
import type { Cluster, Redis } from 'ioredis';
import { checkConnectionOptions, positiveMs } from '../option-checks';

/**
 * Options of {@link redisJobBackend}. A transport's backend (`redisTransport(...).jobBackend()`) takes them from the
 * transport's options of the same names.
 *
 * @example
 * ```ts
 * const backend = redisJobBackend({ redis: new Redis(process.env.REDIS_URL), prefix: 'billing' });
 * ```
 */
export interface RedisJobBackendOptions {
  /**
   * Your ioredis client (5.4 or later, or 6; `protocol` 2 or 3, either `replyMapping`, no `keyPrefix`): a `Redis`
   * (standalone) or a `Cluster`. Every command but the blocking wait for new jobs runs on it; idle workers wait on
   * one duplicate connection per queue (`redis.duplicate()`), opened on the first wait and closed by `close()`. It
   * stays yours: `close()` does not quit it.
   */
  readonly redis: Redis | Cluster;
  /**
   * Namespace of every key. The keys of queue `q` are `<prefix>:j:{q}:...`: one hash tag per queue, so that every
   * script runs in one Redis Cluster slot. Letters, digits and `._:@/-` only. Backends (and transports) with the same
   * prefix on the same Redis share their queues.
   *
   * @defaultValue 'relaybus'
   */
  readonly prefix?: string;
  /**
   * Longest a blocking wait for new jobs stays on Redis before it is renewed, in milliseconds. Waiting workers wake
   * at once when a job arrives whatever it is; it only bounds how long a wait nobody needs any more holds its
   * connection.
   *
   * @defaultValue 2000
   */
  readonly blockMs?: number;
  /**
   * How long a call waits for the client (and a wait for its duplicate connection) to be connected before failing
   * with `RedisUnavailableError` (code `TRANSPORT_UNAVAILABLE`), in milliseconds. The queue's workers retry after
   * it with backoff.
   *
   * @defaultValue 5000
   */
  readonly connectTimeoutMs?: number;
  /**
   * Receives the backend's health: the blocking wait connection failing and recovering.
   *
   * @defaultValue warnings and errors to the console
   */
  readonly logger?: Logger;
  /**
   * Aborting it closes the backend, as `close()` does.
   *
   * @defaultValue none
   */
  readonly signal?: AbortSignal;
}

/** Every default of the Redis job backend, in one place. */
export const JOB_BACKEND_DEFAULTS = {
  prefix: 'relaybus',
  blockMs: 2_000,
  connectTimeoutMs: 5_000,
} as const;

/**
 * Sizes that bound the work of one script call, so that no call holds Redis for long whatever the queue's size.
 * Work left over is done by the next call (or, for `retryDead('all')` and `purge`, by the next chunk of the call).
 */
export const JOB_LIMITS = {
  /** Jobs per `add` script call; a larger batch is split into calls sent together (one round trip). */
  addChunk: 100,
  /** Due scheduled and retry jobs made pending per script call. */
  promoteBatch: 1_000,
  /** Expired leases recovered per `recover` call. */
  recoverBatch: 500,
  /** Expired completed jobs removed per script call. */
  expireBatch: 200,
  /** Dead or completed jobs handled per chunk of `retryDead('all')` and `purge`. */
  bulkChunk: 500,
  /** Most wake-up tokens one script pushes, and most a queue keeps. */
  wakeTokens: 32,
} as const;

/** The options with defaults applied and checked. */
export interface ResolvedJobBackendOptions {
  readonly redis: Redis | Cluster;
  readonly prefix: string;
  readonly blockMs: number;
  readonly connectTimeoutMs: number;
  readonly logger: Logger | undefined;
  readonly signal: AbortSignal | undefined;
}

const WHERE = 'redisJobBackend()';

/**
 * Validates the options of `redisJobBackend()` and applies defaults.
 *
 * @throws `InvalidOptionError` naming the offending option, or `IncompatibleClientError` for a client the backend
 * cannot work with.
 */
export function resolveJobBackendOptions(options: RedisJobBackendOptions): ResolvedJobBackendOptions {
  const { redis, prefix, logger } = checkConnectionOptions(options, WHERE, JOB_BACKEND_DEFAULTS.prefix);
  return {
    redis,
    prefix,
    blockMs: positiveMs(WHERE, options.blockMs, JOB_BACKEND_DEFAULTS.blockMs, 'blockMs'),
    connectTimeoutMs: positiveMs(
      WHERE,
      options.connectTimeoutMs,
      JOB_BACKEND_DEFAULTS.connectTimeoutMs,
      'connectTimeoutMs',
    ),
    logger,
    signal: options.signal,
  };
}

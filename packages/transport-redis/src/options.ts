import { type Delivery, InvalidOptionError, type Logger } from '@relaybus/core';
import type { Cluster, Redis } from 'ioredis';
import { checkConnectionOptions, positiveMs } from './option-checks';

/**
 * How long the transport keeps acknowledged messages in each partition stream. Trimming is approximate
 * (`MAXLEN ~` / `MINID ~` semantics) and never removes an entry that any consumer group has not yet read or
 * still has pending, so a slow or absent group never loses messages.
 *
 * @example
 * ```ts
 * const retention: RedisRetentionOptions = { minAgeMs: 24 * 60 * 60 * 1_000 };
 * ```
 */
export type RedisRetentionOptions =
  | {
      /** Keep about this many newest entries per partition stream. A positive integer. */
      readonly maxLen: number;
    }
  | {
      /** Keep entries younger than this many milliseconds. A positive number. */
      readonly minAgeMs: number;
    };

/**
 * Options of {@link redisTransport}.
 *
 * @example
 * ```ts
 * const transport = redisTransport({
 *   redis: new Redis(process.env.REDIS_URL),
 *   prefix: 'billing',
 *   partitions: 16,
 *   retention: { minAgeMs: 86_400_000 },
 * });
 * ```
 */
export interface RedisTransportOptions {
  /**
   * Your ioredis client (5.4 or later, or 6; `protocol` 2 or 3, either `replyMapping`, no `keyPrefix`): a `Redis`
   * (standalone) or a `Cluster`. The transport sends its commands on it and opens its own duplicates
   * (`redis.duplicate()`) for blocking reads and pub/sub, so this client never blocks. It stays yours: `close()`
   * does not quit it.
   */
  readonly redis: Redis | Cluster;
  /**
   * Namespace of every key, channel and consumer group the transport creates. Letters, digits and `._:@/-`
   * only (no braces or spaces, which would break key naming or Redis Cluster hash tags). Transports with the
   * same prefix on the same Redis form one deployment.
   *
   * @defaultValue 'relaybus'
   */
  readonly prefix?: string;
  /**
   * Partition streams per topic. Messages with the same key go to the same partition; within a group each
   * partition is leased to one member at a time, which is what keeps per-key order. More partitions let more
   * members share a topic. The count is fixed per topic the first time any process uses the topic.
   *
   * @defaultValue 8
   */
  readonly partitions?: number;
  /**
   * Most messages a subscription reads ahead of its handlers (per read and in total).
   *
   * @defaultValue 256
   */
  readonly prefetch?: number;
  /**
   * How long a read blocks on Redis waiting for new messages, in milliseconds. Shorter values only cost idle
   * round trips; a closing subscription interrupts the block at once on standalone Redis.
   *
   * @defaultValue 2000
   */
  readonly blockMs?: number;
  /**
   * How long a member's lease on a partition lasts without renewal, in milliseconds. A crashed consumer's
   * partitions (and their unacknowledged messages) move to a live member after about this long. Renewed
   * every third of it. A member that has not renewed it for four fifths of it (Redis unreachable) stops handing
   * out and reading, and aborts the signals of its deliveries in flight, until a heartbeat succeeds again, so that
   * no two members handle one key at once.
   *
   * @defaultValue 5000
   */
  readonly leaseTtlMs?: number;
  /**
   * How often delayed messages (delayed publishes and nacks with a delay) are checked for being due, in
   * milliseconds. Delays this process knows about fire on time; this bounds how late one scheduled by another
   * process can be.
   *
   * @defaultValue 100
   */
  readonly delayPollIntervalMs?: number;
  /**
   * How often pattern subscriptions re-read the topic registry as a safety net for missed notifications, in
   * milliseconds.
   *
   * @defaultValue 1000
   */
  readonly topicRefreshIntervalMs?: number;
  /**
   * How often partition owners trim their streams, in milliseconds.
   *
   * @defaultValue 30000
   */
  readonly trimIntervalMs?: number;
  /**
   * What to keep in each partition stream, or `false` to never trim.
   *
   * @defaultValue `{ maxLen: 100_000 }`
   */
  readonly retention?: RedisRetentionOptions | false;
  /**
   * Largest serialised message body accepted by `publish`, in bytes. A batch with a larger one is refused
   * with core's `PayloadTooLargeError` (code `PAYLOAD_TOO_LARGE`) before anything is written.
   *
   * @defaultValue 1048576 (1 MiB)
   */
  readonly maxPayloadBytes?: number;
  /**
   * How long `publish`, `subscribe` and `declareGroup` wait for the client (and `subscribe` for its read connection)
   * to be connected before failing with {@link RedisUnavailableError}, in milliseconds. A subscription made through
   * the bus retries after it until Redis is back.
   *
   * @defaultValue 5000
   */
  readonly connectTimeoutMs?: number;
  /**
   * How long `publish` waits for Redis to confirm a batch before failing with a `TransportError`, in
   * milliseconds. A batch that timed out may still have been written (ioredis resends after reconnecting), so
   * a retry can duplicate it: consumers see each message at least once, as always.
   *
   * @defaultValue 10000
   */
  readonly publishTimeoutMs?: number;
  /**
   * Receives the transport's health: Redis becoming unreachable and reachable again (warn, then info), leases that
   * could not be renewed and consumers pausing for it, messages the transport dead-letters itself, and at error level
   * a client whose replies it cannot read.
   *
   * @defaultValue warnings and errors to the console
   */
  readonly logger?: Logger;
  /**
   * Called once for every exception that escapes a subscription handler (the delivery is then nacked for immediate
   * redelivery unless the handler had already settled it), and once when a subscription stops because the client
   * answered in a shape the transport does not recognise (an `IncompatibleClientError`; `delivery` is `undefined`).
   *
   * @defaultValue ignore the error
   */
  readonly onError?: (error: unknown, delivery: Delivery | undefined) => void;
  /**
   * Aborting it closes the transport, as `close()` does.
   *
   * @defaultValue none
   */
  readonly signal?: AbortSignal;
}

/** Every default of the Redis transport, in one place (subscribe options take the contract's, from core). */
export const DEFAULTS = {
  prefix: 'relaybus',
  partitions: 8,
  prefetch: 256,
  blockMs: 2_000,
  leaseTtlMs: 5_000,
  delayPollIntervalMs: 100,
  topicRefreshIntervalMs: 1_000,
  trimIntervalMs: 30_000,
  retention: { maxLen: 100_000 },
  maxPayloadBytes: 1_048_576,
  connectTimeoutMs: 5_000,
  publishTimeoutMs: 10_000,
  closeTimeoutMs: 10_000,
} as const;

/** The options with defaults applied and checked. */
export interface ResolvedOptions {
  readonly redis: Redis | Cluster;
  readonly prefix: string;
  readonly partitions: number;
  readonly prefetch: number;
  readonly blockMs: number;
  readonly leaseTtlMs: number;
  readonly delayPollIntervalMs: number;
  readonly topicRefreshIntervalMs: number;
  readonly trimIntervalMs: number;
  readonly retention: RedisRetentionOptions | false;
  readonly maxPayloadBytes: number;
  readonly connectTimeoutMs: number;
  readonly publishTimeoutMs: number;
  readonly logger: Logger | undefined;
  readonly onError: ((error: unknown, delivery: Delivery | undefined) => void) | undefined;
  readonly signal: AbortSignal | undefined;
}

const WHERE = 'redisTransport()';

function positiveInteger(value: unknown, fallback: number, option: string, max = 1_000_000_000): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > max) {
    throw new InvalidOptionError(WHERE, option, `must be an integer from 1 to ${max}, got ${String(value)}`);
  }
  return value;
}

function resolveRetention(value: unknown): RedisRetentionOptions | false {
  if (value === undefined) return DEFAULTS.retention;
  if (value === false) return false;
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    if ('maxLen' in record && !('minAgeMs' in record)) {
      return { maxLen: positiveInteger(record['maxLen'], 1, 'retention.maxLen', Number.MAX_SAFE_INTEGER) };
    }
    if ('minAgeMs' in record && !('maxLen' in record)) {
      return { minAgeMs: positiveMs(WHERE, record['minAgeMs'], 1, 'retention.minAgeMs') };
    }
  }
  throw new InvalidOptionError(WHERE, 'retention', 'must be { maxLen }, { minAgeMs } or false');
}

/**
 * Validates the options of `redisTransport()` and applies defaults.
 *
 * @throws `InvalidOptionError` naming the offending option, or `IncompatibleClientError` for a client the transport
 * cannot work with.
 */
export function resolveOptions(options: RedisTransportOptions): ResolvedOptions {
  const { redis, prefix, logger } = checkConnectionOptions(options, WHERE, DEFAULTS.prefix);
  if (options.onError !== undefined && typeof options.onError !== 'function') {
    throw new InvalidOptionError(WHERE, 'onError', 'must be a function');
  }
  return {
    redis,
    prefix,
    partitions: positiveInteger(options.partitions, DEFAULTS.partitions, 'partitions', 1024),
    prefetch: positiveInteger(options.prefetch, DEFAULTS.prefetch, 'prefetch', 100_000),
    blockMs: positiveInteger(options.blockMs, DEFAULTS.blockMs, 'blockMs', 600_000),
    leaseTtlMs: positiveInteger(options.leaseTtlMs, DEFAULTS.leaseTtlMs, 'leaseTtlMs'),
    delayPollIntervalMs: positiveMs(
      WHERE,
      options.delayPollIntervalMs,
      DEFAULTS.delayPollIntervalMs,
      'delayPollIntervalMs',
    ),
    topicRefreshIntervalMs: positiveMs(
      WHERE,
      options.topicRefreshIntervalMs,
      DEFAULTS.topicRefreshIntervalMs,
      'topicRefreshIntervalMs',
    ),
    trimIntervalMs: positiveMs(WHERE, options.trimIntervalMs, DEFAULTS.trimIntervalMs, 'trimIntervalMs'),
    retention: resolveRetention(options.retention),
    maxPayloadBytes: positiveInteger(options.maxPayloadBytes, DEFAULTS.maxPayloadBytes, 'maxPayloadBytes'),
    connectTimeoutMs: positiveMs(
      WHERE,
      options.connectTimeoutMs,
      DEFAULTS.connectTimeoutMs,
      'connectTimeoutMs',
    ),
    publishTimeoutMs: positiveMs(
      WHERE,
      options.publishTimeoutMs,
      DEFAULTS.publishTimeoutMs,
      'publishTimeoutMs',
    ),
    logger,
    onError: options.onError,
    signal: options.signal,
  };
}

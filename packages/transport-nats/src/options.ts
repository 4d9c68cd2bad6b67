import type { NatsConnection, NodeConnectionOptions } from '@nats-io/transport-node';
import { type Delivery, InvalidOptionError, type Logger } from '@relaybus/core';
import { checkName } from './names';

/**
 * How long the main stream keeps messages. JetStream removes the oldest messages past any of these limits whether
 * or not every group has handled them (limits retention), which is what lets a group created later start from the
 * earliest retained message.
 *
 * @example
 * ```ts
 * const retention: NatsRetentionOptions = { maxAgeMs: 24 * 60 * 60 * 1_000, maxBytes: 1024 ** 3 };
 * ```
 */
export interface NatsRetentionOptions {
  /**
   * Keep messages younger than this many milliseconds; `0` for no age limit.
   * @defaultValue 604800000 (7 days)
   */
  readonly maxAgeMs?: number;
  /**
   * Keep at most this many messages; `-1` for no limit.
   * @defaultValue -1
   */
  readonly maxMessages?: number;
  /**
   * Keep at most this many bytes; `-1` for no limit.
   * @defaultValue -1
   */
  readonly maxBytes?: number;
}

/**
 * Options of {@link natsTransport}. Give `servers` (the transport connects and owns the connection) or `connection`
 * (yours: the transport never closes it).
 *
 * @example
 * ```ts
 * const transport = natsTransport({ servers: 'nats://127.0.0.1:4222', prefix: 'billing', partitions: 8 });
 * ```
 */
export interface NatsTransportOptions {
  /**
   * NATS server URLs (`nats://host:port` or `host:port`). The transport connects on first use, reconnects forever
   * after a lost connection, and closes the connection in `close()`.
   */
  readonly servers?: string | ReadonlyArray<string>;
  /**
   * Further options of the connection the transport opens from `servers`: credentials (`user` / `pass`, `token`,
   * `authenticator`), `tls`, `name`... `servers`, `reconnect` and `maxReconnectAttempts` are the transport's.
   */
  readonly connectOptions?: Omit<NodeConnectionOptions, 'servers' | 'reconnect' | 'maxReconnectAttempts'>;
  /**
   * Your NATS connection (`@nats-io/transport-node` 3). The transport uses it and leaves it open in `close()`.
   * Give it `maxReconnectAttempts: -1` so that consumers outlive any server outage.
   */
  readonly connection?: NatsConnection;
  /**
   * Root subject token of the deployment: every message is stored under `<prefix>.<lane>.<topic>`. Letters, digits,
   * `_` and `-`, starting with a letter or digit. Transports with the same prefix on the same server form one
   * deployment.
   * @defaultValue 'relaybus'
   */
  readonly prefix?: string;
  /**
   * Name of the JetStream stream holding the messages; the delayed messages and dead letters go to
   * `<stream>__delayed` and `<stream>__dead`. Letters, digits, `_` and `-`, without `__`.
   * @defaultValue the prefix
   */
  readonly stream?: string;
  /**
   * Partition subjects per topic for keyed messages. Within a group, each partition is one durable consumer that
   * has at most one message in flight (`max_ack_pending` 1), which keeps per-key order across every member; more
   * partitions let more keys progress at once. Fixed by the first process that creates the stream (kept in its
   * description); later processes use the stored count.
   * @defaultValue 4
   */
  readonly partitions?: number;
  /**
   * JetStream's `ack_wait` of the group consumers, in milliseconds: a crashed member's messages come back after
   * about this long. While a handler runs (within its visibility timeout) the transport renews it every third of
   * it with `working()`.
   * @defaultValue 5000
   */
  readonly ackWaitMs?: number;
  /**
   * Deliveries of one message to a group before it is dead-lettered with reason `MAX_ATTEMPTS` (JetStream's
   * `max_deliver`; a nack, a visibility timeout or a crash each cost one). The transport dead-letters the message
   * when its last allowed delivery is nacked or expires.
   * @defaultValue 25
   */
  readonly maxDeliver?: number;
  /**
   * Most unacknowledged messages of an unkeyed group consumer across all members (`max_ack_pending`).
   * @defaultValue 1000
   */
  readonly maxAckPending?: number;
  /**
   * Messages each consumer of a subscription asks the server for ahead of its handlers.
   * @defaultValue twice the subscription's concurrency, at least 2 and at most 256
   */
  readonly prefetch?: number;
  /**
   * What the main stream keeps (see {@link NatsRetentionOptions}). Only applied when the stream is created.
   * @defaultValue `{ maxAgeMs: 604_800_000 }`
   */
  readonly retention?: NatsRetentionOptions;
  /**
   * How long `publish`, `subscribe` and `declareGroup` wait for the first connection, and each JetStream request
   * (stream and consumer management, publish acknowledgements) waits for its answer, in milliseconds.
   * @defaultValue 5000
   */
  readonly timeoutMs?: number;
  /**
   * Receives the transport's health: consumers restarting after an error, messages it dead-letters itself.
   * @defaultValue warnings and errors to the console
   */
  readonly logger?: Logger;
  /**
   * Called once for every exception that escapes a subscription handler (the delivery is then nacked for immediate
   * redelivery unless the handler had already settled it).
   * @defaultValue ignore the error
   */
  readonly onError?: (error: unknown, delivery: Delivery) => void;
  /**
   * Aborting it closes the transport, as `close()` does.
   * @defaultValue none
   */
  readonly signal?: AbortSignal;
}

/** Every default of the NATS transport, in one place (subscribe options take the contract's, from core). */
export const DEFAULTS = {
  prefix: 'relaybus',
  partitions: 4,
  ackWaitMs: 5_000,
  maxDeliver: 25,
  maxAckPending: 1_000,
  maxAgeMs: 604_800_000,
  timeoutMs: 5_000,
  closeTimeoutMs: 10_000,
} as const;

/** The options with defaults applied and checked. */
export interface ResolvedOptions {
  readonly servers: ReadonlyArray<string> | undefined;
  readonly connectOptions: NatsTransportOptions['connectOptions'];
  readonly connection: NatsConnection | undefined;
  readonly prefix: string;
  readonly stream: string;
  readonly partitions: number;
  readonly ackWaitMs: number;
  readonly maxDeliver: number;
  readonly maxAckPending: number;
  readonly prefetch: number | undefined;
  readonly retention: Required<NatsRetentionOptions>;
  readonly timeoutMs: number;
  readonly logger: Logger | undefined;
  readonly onError: ((error: unknown, delivery: Delivery) => void) | undefined;
  readonly signal: AbortSignal | undefined;
}

const WHERE = 'natsTransport()';

function integer(value: unknown, fallback: number, option: string, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new InvalidOptionError(
      WHERE,
      option,
      `must be an integer from ${min} to ${max}, got ${String(value)}`,
    );
  }
  return value;
}

function resolveServers(value: unknown): ReadonlyArray<string> | undefined {
  if (value === undefined) return undefined;
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0) {
    throw new InvalidOptionError(WHERE, 'servers', 'must be a server URL or a non-empty array of them');
  }
  list.forEach((server, index) => {
    if (typeof server !== 'string' || server.trim() === '') {
      throw new InvalidOptionError(
        WHERE,
        `servers[${index}]`,
        'must be a non-empty string such as "127.0.0.1:4222"',
      );
    }
  });
  return list as string[];
}

function resolveRetention(value: unknown): Required<NatsRetentionOptions> {
  if (value === undefined) return { maxAgeMs: DEFAULTS.maxAgeMs, maxMessages: -1, maxBytes: -1 };
  if (typeof value !== 'object' || value === null) {
    throw new InvalidOptionError(WHERE, 'retention', 'must be an object such as { maxAgeMs }');
  }
  const { maxAgeMs, maxMessages, maxBytes } = value as NatsRetentionOptions;
  const max = Number.MAX_SAFE_INTEGER;
  return {
    maxAgeMs: integer(maxAgeMs, DEFAULTS.maxAgeMs, 'retention.maxAgeMs', 0, max),
    maxMessages: integer(maxMessages, -1, 'retention.maxMessages', -1, max),
    maxBytes: integer(maxBytes, -1, 'retention.maxBytes', -1, max),
  };
}

function resolveConnection(options: NatsTransportOptions): NatsConnection | undefined {
  const { connection } = options;
  if (connection === undefined) return undefined;
  if (typeof connection !== 'object' || connection === null || typeof connection.publish !== 'function') {
    throw new InvalidOptionError(
      WHERE,
      'connection',
      'must be a NatsConnection from @nats-io/transport-node',
    );
  }
  if (options.servers !== undefined || options.connectOptions !== undefined) {
    throw new InvalidOptionError(
      WHERE,
      'connection',
      'cannot be combined with "servers" or "connectOptions": give your connection, or the servers to connect to',
    );
  }
  return connection;
}

/**
 * Validates the options of `natsTransport()` and applies defaults.
 *
 * @throws `InvalidOptionError` naming the offending option.
 */
export function resolveOptions(options: NatsTransportOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError(WHERE, 'options', 'must be an object with { servers } or { connection }');
  }
  const connection = resolveConnection(options);
  const servers = resolveServers(options.servers);
  if (connection === undefined && servers === undefined) {
    throw new InvalidOptionError(WHERE, 'servers', 'is required unless "connection" is given');
  }
  const { connectOptions, logger, onError } = options;
  if (connectOptions !== undefined && (typeof connectOptions !== 'object' || connectOptions === null)) {
    throw new InvalidOptionError(WHERE, 'connectOptions', 'must be an object of connection options');
  }
  if (logger !== undefined && typeof (logger as Partial<Logger> | null)?.warn !== 'function') {
    throw new InvalidOptionError(WHERE, 'logger', 'must have debug, info, warn and error methods');
  }
  if (onError !== undefined && typeof onError !== 'function') {
    throw new InvalidOptionError(WHERE, 'onError', 'must be a function');
  }
  const prefix = options.prefix ?? DEFAULTS.prefix;
  checkName(WHERE, 'prefix', prefix);
  const stream = options.stream ?? prefix;
  checkName(WHERE, 'stream', stream);
  return {
    servers,
    connectOptions,
    connection,
    prefix,
    stream,
    partitions: integer(options.partitions, DEFAULTS.partitions, 'partitions', 1, 256),
    ackWaitMs: integer(options.ackWaitMs, DEFAULTS.ackWaitMs, 'ackWaitMs', 100, 3_600_000),
    maxDeliver: integer(options.maxDeliver, DEFAULTS.maxDeliver, 'maxDeliver', 2, 1_000_000),
    maxAckPending: integer(options.maxAckPending, DEFAULTS.maxAckPending, 'maxAckPending', 1, 1_000_000),
    prefetch:
      options.prefetch === undefined ? undefined : integer(options.prefetch, 0, 'prefetch', 1, 10_000),
    retention: resolveRetention(options.retention),
    timeoutMs: integer(options.timeoutMs, DEFAULTS.timeoutMs, 'timeoutMs', 1, 600_000),
    logger,
    onError,
    signal: options.signal,
  };
}

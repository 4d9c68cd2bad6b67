import { type Delivery, InvalidOptionError, type Logger } from '@relaybus/core';
import type { ChannelModel } from 'amqplib';

/**
 * Options of {@link amqpTransport}. Give `url` (the transport opens, reconnects and closes its own connection) or
 * `connection` (yours: the transport opens channels on it and never closes it).
 *
 * Every process of one deployment must pass the same `exchange`, `orderedByKey`, `deliveryLimit` and
 * `groupExpiresMs`: they shape queues that the broker refuses to redeclare with other arguments.
 *
 * @example
 * ```ts
 * const transport = amqpTransport({
 *   url: 'amqp://guest:guest@127.0.0.1:5672',
 *   exchange: 'billing',
 *   prefetch: 200,
 * });
 * ```
 */
export interface AmqpTransportOptions {
  /**
   * Where the broker is, as an AMQP URL (`amqp://user:password@host:5672/vhost`, `amqps://` for TLS). The
   * transport connects on the first `publish`, `subscribe` or `declareGroup`, reconnects with backoff when the
   * connection drops (declaring its exchanges, queues and bindings again and resuming its consumers) and closes the
   * connection in `close()`. Give `url` or `connection`, not both.
   */
  readonly url?: string;
  /**
   * An amqplib connection you opened (`await amqplib.connect(url)`). The transport opens its channels on it and
   * leaves it open in `close()`. It cannot reconnect a connection it does not own: once yours closes, operations
   * reject with `TransportUnavailableError` and subscriptions stop taking deliveries. Give `url` or `connection`.
   */
  readonly connection?: ChannelModel;
  /**
   * Name of the topic exchange events are published to, with the event type as routing key; the transport's other
   * exchanges and queues are named after it (`<exchange>.keyed`, `<exchange>/<group>/...`, `<exchange>.dead-letters`).
   * Transports with the same exchange on the same virtual host form one deployment. Letters, digits and `_.:-`, at
   * most 100 characters.
   *
   * @defaultValue 'relaybus'
   */
  readonly exchange?: string;
  /**
   * Whether messages with a key are handed out in publish order within a group, one at a time per key. When `true`,
   * each group keeps keyed messages in a quorum queue with a single active consumer: one member of the group
   * handles them (keys run concurrently within it, up to `concurrency`), and another member takes over at once when
   * it leaves or crashes. Messages without a key are shared by every member either way. `false` shares keyed
   * messages among all members too, without order.
   *
   * @defaultValue true
   */
  readonly orderedByKey?: boolean;
  /**
   * How many times the broker delivers a message of a group queue before it dead-letters it with reason
   * `MAX_ATTEMPTS` (the quorum queue's `x-delivery-limit`). It counts deliveries the consumer never settled: crashes,
   * lost connections and closes while the message was held. Retries the handler asks for (nacks) are counted by the
   * bus's retry policy instead.
   *
   * @defaultValue 20
   */
  readonly deliveryLimit?: number;
  /**
   * How long a group's queues live unused (no consumer, not declared again) before the broker deletes them, in
   * milliseconds, or `false` to keep them until deleted by hand. Deleting a queue deletes the messages in it.
   *
   * @defaultValue false
   */
  readonly groupExpiresMs?: number | false;
  /**
   * Most unacknowledged messages the broker sends each consumer ahead of its handlers (`basic.qos`). Larger values
   * help throughput; messages parked behind a busy key count too.
   *
   * @defaultValue 100
   */
  readonly prefetch?: number;
  /**
   * Largest serialised message body accepted by `publish`, in bytes. A batch with a larger one is refused with core's
   * `PayloadTooLargeError` (code `PAYLOAD_TOO_LARGE`) before anything is sent. RabbitMQ's own limit is its
   * `max_message_size` (128 MiB by default); large messages slow every queue they pass through.
   *
   * @defaultValue 1048576 (1 MiB)
   */
  readonly maxPayloadBytes?: number;
  /**
   * How long an operation waits for the connection (connecting, or reconnecting after a drop) before failing with
   * `TransportUnavailableError`, in milliseconds. A subscription made through the bus retries after it.
   *
   * @defaultValue 5000
   */
  readonly connectTimeoutMs?: number;
  /**
   * How long `publish` waits for the broker to confirm a batch before failing with a `TransportError`, in
   * milliseconds. A batch that timed out may still have been stored, so a retry can duplicate it: consumers see each
   * message at least once, as always.
   *
   * @defaultValue 10000
   */
  readonly publishTimeoutMs?: number;
  /**
   * Receives the transport's health: the connection dropping and coming back, consumers resuming, the broker
   * blocking publishers (a resource alarm).
   *
   * @defaultValue warnings and errors to the console
   */
  readonly logger?: Logger;
  /**
   * Called once for every exception that escapes a subscription handler; the delivery is then nacked for immediate
   * redelivery unless the handler had already settled it.
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

/** Every default of the AMQP transport, in one place (subscribe options take the contract's, from core). */
export const DEFAULTS = {
  exchange: 'relaybus',
  orderedByKey: true,
  deliveryLimit: 20,
  prefetch: 100,
  maxPayloadBytes: 1_048_576,
  connectTimeoutMs: 5_000,
  publishTimeoutMs: 10_000,
  closeTimeoutMs: 10_000,
} as const;

/** The options with defaults applied and checked. */
export interface ResolvedOptions {
  readonly url: string | undefined;
  readonly connection: ChannelModel | undefined;
  readonly exchange: string;
  readonly orderedByKey: boolean;
  readonly deliveryLimit: number;
  readonly groupExpiresMs: number | false;
  readonly prefetch: number;
  readonly maxPayloadBytes: number;
  readonly connectTimeoutMs: number;
  readonly publishTimeoutMs: number;
  readonly logger: Logger | undefined;
  readonly onError: ((error: unknown, delivery: Delivery | undefined) => void) | undefined;
  readonly signal: AbortSignal | undefined;
}

const WHERE = 'amqpTransport()';
const EXCHANGE_NAME = /^[A-Za-z0-9_.:-]{1,100}$/;

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

function checkSource(url: unknown, connection: unknown): void {
  if (url !== undefined && connection !== undefined) {
    throw new InvalidOptionError(WHERE, 'url', 'and "connection" were both given; pass one of them');
  }
  if (url === undefined && connection === undefined) {
    throw new InvalidOptionError(
      WHERE,
      'url',
      'is required (or pass an amqplib connection as "connection"), such as "amqp://guest:guest@127.0.0.1:5672"',
    );
  }
  if (url !== undefined && (typeof url !== 'string' || !/^amqps?:\/\/[^/]/.test(url))) {
    throw new InvalidOptionError(
      WHERE,
      'url',
      `must be an amqp:// or amqps:// URL, got ${JSON.stringify(url)}`,
    );
  }
  const model = connection as Partial<ChannelModel> | null;
  if (
    connection !== undefined &&
    (typeof model !== 'object' || model === null || typeof model.createConfirmChannel !== 'function')
  ) {
    throw new InvalidOptionError(
      WHERE,
      'connection',
      'must be an amqplib connection (the result of `await amqplib.connect(url)`)',
    );
  }
}

function checkFunctions(options: AmqpTransportOptions): void {
  const { logger, onError, signal } = options;
  if (logger !== undefined && typeof (logger as Partial<Logger> | null)?.warn !== 'function') {
    throw new InvalidOptionError(WHERE, 'logger', 'must have debug, info, warn and error methods');
  }
  if (onError !== undefined && typeof onError !== 'function') {
    throw new InvalidOptionError(WHERE, 'onError', 'must be a function');
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new InvalidOptionError(WHERE, 'signal', 'must be an AbortSignal');
  }
}

/**
 * Validates the options of `amqpTransport()` and applies defaults.
 *
 * @throws `InvalidOptionError` naming the offending option.
 */
export function resolveOptions(options: AmqpTransportOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError(
      WHERE,
      'options',
      'must be an object with at least { url } or { connection }',
    );
  }
  checkSource(options.url, options.connection);
  checkFunctions(options);
  const exchange = options.exchange ?? DEFAULTS.exchange;
  if (typeof exchange !== 'string' || !EXCHANGE_NAME.test(exchange) || exchange.startsWith('amq.')) {
    throw new InvalidOptionError(
      WHERE,
      'exchange',
      `must be 1 to 100 letters, digits and "_.:-", not starting with "amq.", got ${JSON.stringify(exchange)}`,
    );
  }
  const orderedByKey = options.orderedByKey ?? DEFAULTS.orderedByKey;
  if (typeof orderedByKey !== 'boolean') {
    throw new InvalidOptionError(WHERE, 'orderedByKey', `must be a boolean, got ${String(orderedByKey)}`);
  }
  const groupExpiresMs = options.groupExpiresMs ?? false;
  if (groupExpiresMs !== false) integer(groupExpiresMs, 0, 'groupExpiresMs', 1_000, 2 ** 31 - 1);
  return {
    url: options.url,
    connection: options.connection,
    exchange,
    orderedByKey,
    deliveryLimit: integer(options.deliveryLimit, DEFAULTS.deliveryLimit, 'deliveryLimit', 1, 1_000_000),
    groupExpiresMs,
    prefetch: integer(options.prefetch, DEFAULTS.prefetch, 'prefetch', 1, 65_535),
    maxPayloadBytes: integer(
      options.maxPayloadBytes,
      DEFAULTS.maxPayloadBytes,
      'maxPayloadBytes',
      1,
      512 * 1_048_576,
    ),
    connectTimeoutMs: integer(
      options.connectTimeoutMs,
      DEFAULTS.connectTimeoutMs,
      'connectTimeoutMs',
      1,
      600_000,
    ),
    publishTimeoutMs: integer(
      options.publishTimeoutMs,
      DEFAULTS.publishTimeoutMs,
      'publishTimeoutMs',
      1,
      3_600_000,
    ),
    logger: options.logger,
    onError: options.onError,
    signal: options.signal,
  };
}

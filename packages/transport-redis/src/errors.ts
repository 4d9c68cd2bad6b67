import { TransportError } from '@relaybus/core';

/**
 * A message body is larger than `maxPayloadBytes`. Thrown by `publish` before anything of the batch is written.
 *
 * @example
 * ```ts
 * try {
 *   await transport.publish(batch);
 * } catch (error) {
 *   if (error instanceof PayloadTooLargeError) console.log(error.messageId, error.sizeBytes, error.maxBytes);
 * }
 * ```
 */
export class PayloadTooLargeError extends TransportError {
  /** Id of the first message that is too large. */
  readonly messageId: string;
  /** Its serialised size in bytes. */
  readonly sizeBytes: number;
  /** The configured limit in bytes. */
  readonly maxBytes: number;

  constructor(messageId: string, index: number, sizeBytes: number, maxBytes: number) {
    super(
      'redis',
      `message ${JSON.stringify(messageId)} (messages[${index}]) is ${sizeBytes} bytes serialised, over maxPayloadBytes ${maxBytes}; nothing of the batch was written. Store large payloads elsewhere and publish a reference, or raise maxPayloadBytes.`,
    );
    this.name = 'PayloadTooLargeError';
    this.messageId = messageId;
    this.sizeBytes = sizeBytes;
    this.maxBytes = maxBytes;
  }
}

/**
 * Redis could not be reached (or the client was closed) within `connectTimeoutMs`. Names the address.
 *
 * @example
 * ```ts
 * try {
 *   await transport.publish(batch);
 * } catch (error) {
 *   if (error instanceof RedisUnavailableError) console.log('Redis down at', error.address);
 * }
 * ```
 */
export class RedisUnavailableError extends TransportError {
  /** The address the client connects to, such as `127.0.0.1:6379`. */
  readonly address: string;

  constructor(address: string, problem: string, options: { cause?: unknown } = {}) {
    super('redis', `Redis at ${address} ${problem}`, options);
    this.name = 'RedisUnavailableError';
    this.address = address;
  }
}

import { TransportError, TransportUnavailableError } from '@relaybus/core';

/**
 * Redis could not be reached (or the client was closed) within `connectTimeoutMs`. Names the address. Its code is
 * `TRANSPORT_UNAVAILABLE`: a subscription made through the bus keeps retrying after it, and a `publish` that failed
 * with it can be retried.
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
export class RedisUnavailableError extends TransportUnavailableError {
  constructor(address: string, problem: string, options: { cause?: unknown } = {}) {
    super('redis', address, problem, options);
    this.name = 'RedisUnavailableError';
  }
}

/**
 * The ioredis client passed in is not one the transport can work with, or it answered a command in a shape the
 * transport does not recognise (an ioredis version or reply option it was not built for). Its code is
 * `INCOMPATIBLE_CLIENT`; retrying cannot help. Supported: ioredis 5.4 or later and ioredis 6, with `protocol` 2 or 3
 * and either `replyMapping`.
 *
 * @example
 * ```ts
 * try {
 *   await transport.subscribe({ topics: ['task.created'], group: 'mailer' }, handler);
 * } catch (error) {
 *   if (error instanceof IncompatibleClientError) console.error(error.message); // names the command and the reply
 * }
 * ```
 */
export class IncompatibleClientError extends TransportError {
  /** The command whose reply was not recognised, or `'client'` when the client itself was refused. */
  readonly command: string;

  constructor(command: string, problem: string) {
    super(
      'redis',
      `${problem}. The transport supports ioredis ^5.4.0 and ^6.0.0 (protocol 2 or 3, replyMapping 'legacy' or 'resp3'); pass a supported ioredis client, or report this reply shape as a bug.`,
      { code: 'INCOMPATIBLE_CLIENT' },
    );
    this.name = 'IncompatibleClientError';
    this.command = command;
  }
}

import { InvalidOptionError } from '../errors';
import type { TransportMessage } from '../transport/transport';

/**
 * Validates a batch given to `transport.publish()`: an array of messages, each with a non-empty string `id` and
 * `topic`, a string `key` when there is one, and a finite `delayMs >= 0` when there is one. Returns the first problem
 * (so the caller can reject without sending anything), or `undefined`.
 *
 * @param where - Named in the error, such as `amqpTransport.publish()`.
 * @example
 * ```ts
 * import { checkPublishBatch } from '@relaybus/core/transport-kit';
 *
 * const problem = checkPublishBatch(messages, 'amqpTransport.publish()');
 * if (problem !== undefined) throw problem;
 * ```
 */
export function checkPublishBatch(
  messages: ReadonlyArray<TransportMessage>,
  where: string,
): InvalidOptionError | undefined {
  if (!Array.isArray(messages)) return new InvalidOptionError(where, 'messages', 'must be an array');
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i] as TransportMessage | undefined;
    if (typeof message !== 'object' || message === null) {
      return new InvalidOptionError(where, `messages[${i}]`, 'must be a message object');
    }
    if (typeof message.topic !== 'string' || message.topic.length === 0) {
      return new InvalidOptionError(where, `messages[${i}].topic`, 'must be a non-empty string');
    }
    if (typeof message.id !== 'string' || message.id.length === 0) {
      return new InvalidOptionError(where, `messages[${i}].id`, 'must be a non-empty string');
    }
    if (message.key !== undefined && typeof message.key !== 'string') {
      return new InvalidOptionError(
        where,
        `messages[${i}].key`,
        `must be a string, got ${typeof message.key}`,
      );
    }
    const { delayMs } = message;
    if (delayMs !== undefined && (typeof delayMs !== 'number' || !Number.isFinite(delayMs) || delayMs < 0)) {
      return new InvalidOptionError(
        where,
        `messages[${i}].delayMs`,
        `must be a finite number >= 0, got ${String(delayMs)}`,
      );
    }
  }
  return undefined;
}

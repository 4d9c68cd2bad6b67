import { RelaybusError, TransportError, TransportUnavailableError } from '../errors';

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);

/**
 * Whether an error says the broker could not be reached or the connection broke (a socket error code such as
 * `ECONNREFUSED`, `ENOTFOUND`, `ETIMEDOUT`, `ECONNRESET`, on the error or its `cause`), as opposed to the broker
 * refusing a request.
 *
 * @example
 * ```ts
 * import { isUnreachable } from '@relaybus/core/transport-kit';
 *
 * if (isUnreachable(error)) scheduleReconnect();
 * ```
 */
export function isUnreachable(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && UNREACHABLE_CODES.has(code)) return true;
    if (/\b(ECONNREFUSED|ECONNRESET|ENOTFOUND|ETIMEDOUT|EHOSTUNREACH|EPIPE)\b/.test(current.message))
      return true;
    current = current.cause;
  }
  return false;
}

/**
 * Turns a failure of a broker operation into the error a transport rejects with: a relaybus error as it is; an
 * unreachable broker or broken connection ({@link isUnreachable}) as `TransportUnavailableError` naming the address
 * (the bus retries subscriptions after it); anything else as `TransportError`. `cause` is kept.
 *
 * @param transport - The transport's name, such as `amqp`.
 * @param address - Where it connects, such as `127.0.0.1:5672`.
 * @param doing - What was being done, such as `publishing 3 messages`.
 * @example
 * ```ts
 * import { connectionError } from '@relaybus/core/transport-kit';
 *
 * try { await channel.assertExchange(name, 'topic'); }
 * catch (error) { throw connectionError('amqp', '127.0.0.1:5672', 'declaring the exchange', error); }
 * ```
 */
export function connectionError(
  transport: string,
  address: string,
  doing: string,
  error: unknown,
): RelaybusError {
  if (error instanceof RelaybusError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  if (isUnreachable(error)) {
    return new TransportUnavailableError(
      transport,
      address,
      `could not be reached while ${doing} (${detail}); is the broker running there?`,
      { cause: error },
    );
  }
  return new TransportError(transport, `${doing} failed: ${detail}`, { cause: error });
}

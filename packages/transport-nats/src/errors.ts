import { RelaybusError, TransportError, TransportUnavailableError } from '@relaybus/core';
import { connectionError } from '@relaybus/core/transport-kit';

/** JetStream API error codes the transport branches on. */
export const API_CODE = {
  consumerNotFound: 10014,
  streamNotFound: 10059,
  streamNameInUse: 10058,
  consumerExists: 10148,
  consumerNameExists: 10013,
  messageNotFound: 10037,
} as const;

/** The JetStream API error code of `error`, when it is one. */
export function apiCode(error: unknown): number | undefined {
  // JetStreamApiError and its subclasses (StreamNotFoundError, ConsumerNotFoundError...) carry `apiError()`.
  if (error instanceof Error && typeof (error as { apiError?: unknown }).apiError === 'function') {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'number' ? code : undefined;
  }
  return undefined;
}

/** Names of the client's errors that mean the server could not be reached, or the connection is not up. */
const UNREACHABLE = new Set([
  'ConnectionError',
  'ClosedConnectionError',
  'DrainingConnectionError',
  'TimeoutError',
  'NoResponders',
  'RequestError',
]);

function isUnreachableError(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 4; depth++) {
    if (UNREACHABLE.has(current.name)) return true;
    if (/\b(timeout|TIMEOUT|disconnected|connection closed)\b/.test(current.message)) return true;
    current = current.cause;
  }
  return false;
}

/**
 * Turns a failure of the NATS client into the relaybus error a transport operation rejects with: relaybus errors as
 * they are; refused credentials as a `TransportError` that says so; an unreachable server, a broken connection or an
 * unanswered request as `TransportUnavailableError` naming `address` (the bus retries subscriptions after it);
 * JetStream not enabled, or anything else the server refused, as `TransportError`. `cause` is kept.
 */
export function natsError(address: string, doing: string, error: unknown): RelaybusError {
  if (error instanceof RelaybusError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  if (error instanceof Error && (error.name === 'AuthorizationError' || /authoriz/i.test(detail))) {
    return new TransportError(
      'nats',
      `${address} refused the credentials while ${doing} (${detail}); check the user, password, token or credentials file in connectOptions`,
      { cause: error },
    );
  }
  if (
    error instanceof Error &&
    (error.name === 'JetStreamNotEnabled' || /jetstream not enabled/i.test(detail))
  ) {
    return new TransportError(
      'nats',
      `JetStream is not enabled on ${address} (${detail}); start nats-server with -js (or a jetstream block in its configuration)`,
      { cause: error },
    );
  }
  if (isUnreachableError(error)) {
    return new TransportUnavailableError(
      'nats',
      address,
      `could not be reached while ${doing} (${detail}); is nats-server running there?`,
      { cause: error },
    );
  }
  return connectionError('nats', address, doing, error);
}

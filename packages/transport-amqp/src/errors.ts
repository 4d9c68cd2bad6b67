import { type RelaybusError, TransportError, TransportUnavailableError } from '@relaybus/core';
import { connectionError } from '@relaybus/core/transport-kit';

const NAME = 'amqp';

/** The AMQP reply code of a broker error, when it carries one (amqplib sets `code` on channel and connection errors). */
function replyCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Turns a failure of a broker operation into the error the transport rejects with: refused credentials and virtual
 * hosts say so (code `TRANSPORT_UNAVAILABLE`, as an operator can fix them while the app keeps retrying); a queue or
 * exchange that exists with other arguments names the options that must agree; a closed connection or channel and
 * an unreachable broker are `TransportUnavailableError`; anything else is a `TransportError`.
 */
export function amqpError(address: string, doing: string, error: unknown): RelaybusError {
  const detail = messageOf(error);
  if (/ACCESS[-_]REFUSED/.test(detail) && /Handshake terminated|403/.test(detail)) {
    return new TransportError(
      NAME,
      `the broker at ${address} refused the credentials while ${doing} (${detail}). Check the user name and password in the URL, and that the user exists.`,
      { code: 'TRANSPORT_UNAVAILABLE', cause: error },
    );
  }
  if (/NOT[-_]ALLOWED/.test(detail) && /vhost|virtual host/i.test(detail)) {
    return new TransportError(
      NAME,
      `the broker at ${address} refused access to the virtual host while ${doing} (${detail}). Check the vhost in the URL and the user's permissions (rabbitmqctl set_permissions).`,
      { code: 'TRANSPORT_UNAVAILABLE', cause: error },
    );
  }
  if (replyCode(error) === 406 && /inequivalent arg/.test(detail)) {
    return new TransportError(
      NAME,
      `${doing} failed: ${detail}. It exists with other arguments: every process of a deployment must pass the same exchange, orderedByKey, deliveryLimit and groupExpiresMs (or delete the old queue).`,
      { cause: error },
    );
  }
  if (/(Channel|Connection) (closed|ended)|Channel closing/i.test(detail) || replyCode(error) === 320) {
    return new TransportUnavailableError(NAME, address, `closed the connection while ${doing} (${detail})`, {
      cause: error,
    });
  }
  return connectionError(NAME, address, doing, error);
}

/** The transport (or its connection) was closed before an operation could finish. */
export function connectionLost(address: string, doing: string): TransportUnavailableError {
  return new TransportUnavailableError(
    NAME,
    address,
    `connection was lost while ${doing}; the broker may or may not have stored what was sent`,
  );
}

/** Whether an error means the broker refused who we are: retrying right away cannot help. */
export function isRefusal(error: unknown): boolean {
  const detail = messageOf(error);
  return /ACCESS[-_]REFUSED|NOT[-_]ALLOWED/.test(detail);
}

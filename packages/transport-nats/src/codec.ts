import { type MsgHdrs, headers as natsHeaders } from '@nats-io/transport-node';
import type { TransportMessage } from '@relaybus/core';

/** Header names the transport writes; `Nats-Msg-Id` (the message id) is JetStream's own. */
export const HEADER = {
  id: 'Nats-Msg-Id',
  key: 'Relaybus-Key',
  /** A redriven message meant for one group only: every other consumer skips it. */
  group: 'Relaybus-Group',
  /** Epoch ms a delayed message is due (delayed stream only). */
  dueAt: 'Relaybus-Due-At',
  /** Subject a delayed message moves to when due (delayed stream only). */
  target: 'Relaybus-Target',
  /** Message id as published, when `Nats-Msg-Id` holds a derived deduplication id (moved and redriven messages). */
  messageId: 'Relaybus-Id',
} as const;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The body as bytes: JSON for objects, as it is for strings and bytes. */
export function encodeBody(body: unknown): Uint8Array {
  if (body instanceof Uint8Array) return body;
  if (typeof body === 'string') return encoder.encode(body);
  return encoder.encode(JSON.stringify(body));
}

/** Headers of a message: its key, and the extra fields given. */
export function messageHeaders(
  message: Pick<TransportMessage, 'id' | 'key'>,
  extra: Record<string, string> = {},
): MsgHdrs {
  const headers = natsHeaders();
  if (message.key !== undefined) headers.set(HEADER.key, message.key);
  for (const [name, value] of Object.entries(extra)) headers.set(name, value);
  return headers;
}

/**
 * Bytes the headers take on the wire (`NATS/1.0\r\n`, a line per header, a blank line): the server's `max_payload`
 * counts headers and body together.
 */
export function headerBytes(headers: MsgHdrs): number {
  let size = 'NATS/1.0\r\n\r\n'.length;
  for (const [name, values] of headers) {
    for (const value of values) size += encoder.encode(`${name}: ${value}\r\n`).length;
  }
  return size;
}

/** Reads a header, `undefined` when absent. */
export function header(headers: MsgHdrs | undefined, name: string): string | undefined {
  // `get` answers '' for an absent header; the transport never writes an empty one.
  const value = headers?.get(name);
  return value === '' ? undefined : value;
}

/** Rebuilds the transport message of a stored NATS message. */
export function decodeMessage(
  topic: string,
  data: Uint8Array,
  headers: MsgHdrs | undefined,
): TransportMessage {
  const id = header(headers, HEADER.messageId) ?? header(headers, HEADER.id) ?? '';
  const key = header(headers, HEADER.key);
  const body = decoder.decode(data);
  return key === undefined ? { id, topic, body } : { id, topic, key, body };
}

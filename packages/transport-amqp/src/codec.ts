import { randomUUID } from 'node:crypto';
import type { TransportMessage } from '@relaybus/core';
import type { Message, MessagePropertyHeaders, Options } from 'amqplib';

/**
 * Message headers the transport sets. The message id travels as `messageId`, the topic as `type` (routing keys
 * change on the way through delay and dead-letter queues), the body as JSON bytes.
 */
export const HEADER = {
  key: 'relaybus-key',
  /** Attempts made before this copy was published (a retry after a delay). */
  attempts: 'relaybus-attempts',
  /** When the first attempt was made (epoch ms), on retries. */
  firstAttemptAt: 'relaybus-first-attempt-at',
  /** Which delay queue a delayed message goes to (matched by the headers exchange). */
  delay: 'relaybus-delay',
} as const;

/** The body as bytes: strings and bytes as they are (already serialised), anything else as JSON. */
export function encodeBody(body: unknown): Buffer | undefined {
  if (typeof body === 'string') return Buffer.from(body);
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  try {
    const text = JSON.stringify(body);
    return text === undefined ? undefined : Buffer.from(text);
  } catch {
    return undefined;
  }
}

/** Publish properties of a message: persistent, JSON, with its id, topic and key. */
export function publishOptions(
  message: Pick<TransportMessage, 'id' | 'topic' | 'key'>,
  headers: MessagePropertyHeaders = {},
): Options.Publish {
  return {
    persistent: true,
    contentType: 'application/json',
    messageId: message.id,
    type: message.topic,
    headers: message.key === undefined ? headers : { ...headers, [HEADER.key]: message.key },
  };
}

/** A message as received, with what its headers say about earlier attempts. */
export interface Received {
  readonly message: TransportMessage;
  /** Attempts made before this copy was published (0 for an original). */
  readonly priorAttempts: number;
  /** Broker redeliveries of this copy (quorum queues count them in `x-delivery-count`). */
  readonly redeliveries: number;
  /** When the first attempt was made (epoch ms), when a retry says so; 0 otherwise. */
  readonly firstAttemptAt: number;
}

function numberHeader(headers: MessagePropertyHeaders | undefined, name: string): number {
  const value: unknown = headers?.[name];
  const parsed = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : Number.NaN;
  return Number.isFinite(parsed) && parsed >= 0 ? parsed : 0;
}

/** Reads a delivered AMQP message (the body stays bytes: the bus decodes and validates it). */
export function decodeMessage(raw: Message): Received {
  const { properties, fields, content } = raw;
  const headers = properties.headers;
  const key: unknown = headers?.[HEADER.key];
  const id =
    typeof properties.messageId === 'string' && properties.messageId !== ''
      ? properties.messageId
      : randomUUID();
  const topic =
    typeof properties.type === 'string' && properties.type !== '' ? properties.type : fields.routingKey;
  const counted = numberHeader(headers, 'x-delivery-count');
  return {
    message: typeof key === 'string' ? { id, topic, key, body: content } : { id, topic, body: content },
    priorAttempts: numberHeader(headers, HEADER.attempts),
    redeliveries: counted > 0 ? counted : fields.redelivered === true ? 1 : 0,
    firstAttemptAt: numberHeader(headers, HEADER.firstAttemptAt),
  };
}

/** Headers of a copy published again (a retry, a dead letter, a redrive): the original's, minus broker and transport bookkeeping. */
export function carriedHeaders(raw: Message): MessagePropertyHeaders {
  const carried: MessagePropertyHeaders = {};
  for (const [name, value] of Object.entries(raw.properties.headers ?? {})) {
    if (name.startsWith('x-') || name.startsWith('relaybus-')) continue;
    carried[name] = value;
  }
  return carried;
}

import type { Message } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { carriedHeaders, decodeMessage, encodeBody, HEADER, publishOptions } from './codec';

function received(options: ReturnType<typeof publishOptions>, content: Buffer, redelivered = false): Message {
  return {
    content,
    fields: { deliveryTag: 1, redelivered, exchange: 'x', routingKey: 'ignored' },
    properties: {
      messageId: options.messageId,
      type: options.type,
      headers: options.headers,
    } as Message['properties'],
  };
}

describe('codec', () => {
  it('round-trips id, topic, key and body, and reads attempts from the headers', () => {
    const message = { id: 'm-1', topic: 'task.created', key: 'task-1', body: { a: [1, 'two'] } };
    const content = encodeBody(message.body) as Buffer;
    const options = publishOptions(message, { [HEADER.attempts]: 2, [HEADER.firstAttemptAt]: 1_000 });
    const decoded = decodeMessage(received(options, content));
    expect({ ...decoded.message, body: JSON.parse(String(decoded.message.body)) }).toEqual(message);
    expect(decoded).toMatchObject({ priorAttempts: 2, redeliveries: 0, firstAttemptAt: 1_000 });
    expect(options).toMatchObject({ persistent: true, contentType: 'application/json' });
  });

  it('counts a quorum queue redelivery from x-delivery-count, a classic one from the redelivered flag', () => {
    const options = publishOptions({ id: 'm', topic: 't' }, { 'x-delivery-count': 3 });
    expect(decodeMessage(received(options, Buffer.from('{}'))).redeliveries).toBe(3);
    expect(
      decodeMessage(received(publishOptions({ id: 'm', topic: 't' }), Buffer.from('{}'), true)).redeliveries,
    ).toBe(1);
  });

  it('passes strings and bytes through, refuses what has no JSON form', () => {
    expect(encodeBody('{"a":1}')?.toString()).toBe('{"a":1}');
    expect(encodeBody(new Uint8Array([123, 125]))?.toString()).toBe('{}');
    expect(encodeBody(() => 1)).toBeUndefined();
    expect(encodeBody({ big: 1n })).toBeUndefined();
  });

  it('carries user headers on copies, not broker or transport bookkeeping', () => {
    const options = publishOptions(
      { id: 'm', topic: 't', key: 'k' },
      { tenant: 'acme', 'x-death': [], [HEADER.attempts]: 1 },
    );
    expect(carriedHeaders(received(options, Buffer.from('{}')))).toEqual({ tenant: 'acme' });
  });
});

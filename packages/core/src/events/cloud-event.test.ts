import { HTTP, CloudEvent as SdkCloudEvent } from 'cloudevents';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { InvalidEnvelopeError } from '../errors';
import { fromCloudEvent, toCloudEvent } from './cloud-event';
import { decodeEnvelope } from './decode-envelope';
import { defineEvent } from './define-event';

const TaskCreated = defineEvent('task.created', z.object({ taskId: z.string() }), {
  version: 2,
  upcast: { 1: (v) => v },
});

function fullEvent() {
  return {
    ...TaskCreated.create(
      { taskId: 't1' },
      {
        subject: 's1',
        key: 'k1',
        correlationId: 'c1',
        causationId: 'x1',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        metadata: { tenant: 'acme', region: 'eu-west' },
      },
    ),
    position: '42',
    stream: 'task-t1',
    streamVersion: 3,
  };
}

describe('CloudEvents conversion', () => {
  it('round-trips every envelope field losslessly, through JSON too', () => {
    const event = fullEvent();
    const ce = toCloudEvent(event);
    expect(ce).toMatchObject({ specversion: '1.0', datacontenttype: 'application/json', dataversion: 2 });
    expect(fromCloudEvent(ce)).toEqual(event);
    expect(fromCloudEvent(JSON.stringify(ce))).toEqual(event);
    const minimal = TaskCreated.create({ taskId: 't2' });
    expect(fromCloudEvent(toCloudEvent(minimal))).toEqual(minimal);
  });

  it('writes only spec-valid extension attributes: the official SDK accepts the event in strict mode', () => {
    const ce = toCloudEvent(fullEvent());
    expect(() => new SdkCloudEvent(ce, true)).not.toThrow();
    expect(ce['metadata']).toBe('{"tenant":"acme","region":"eu-west"}');
  });

  it('round-trips through the official SDK in structured and binary HTTP modes', () => {
    const event = fullEvent();
    for (const message of [
      HTTP.structured(new SdkCloudEvent(toCloudEvent(event))),
      HTTP.binary(new SdkCloudEvent(toCloudEvent(event))),
    ]) {
      const received = HTTP.toEvent({ headers: message.headers, body: message.body });
      expect(Array.isArray(received)).toBe(false);
      expect(fromCloudEvent(received)).toEqual(event);
    }
  });

  it('reads binary-mode attribute strings: integer versions and JSON metadata', () => {
    const event = fullEvent();
    const asHeaders = Object.fromEntries(
      Object.entries(toCloudEvent(event)).map(([name, value]) =>
        name === 'data' ? [name, value] : [name, String(value)],
      ),
    );
    expect(fromCloudEvent(asHeaders)).toEqual(event);
    expect(() => fromCloudEvent({ ...asHeaders, dataversion: 'two' })).toThrow(
      /"version" must be an integer/,
    );
    expect(() => fromCloudEvent({ ...asHeaders, metadata: '{oops' })).toThrow(/"metadata" attribute/);
  });

  it('refuses events that are not CloudEvents 1.0', () => {
    expect(() => fromCloudEvent({ specversion: '0.3' })).toThrow(InvalidEnvelopeError);
    expect(() => fromCloudEvent('{not json')).toThrow(/not valid JSON/);
  });
});

describe('decodeEnvelope', () => {
  it('names every missing or mistyped field', () => {
    expect(() => decodeEnvelope({ id: 'a', type: 5, version: 0, metadata: { a: 1 } })).toThrow(
      /"type" must be a non-empty string.*"time".*"source".*"version".*"data" is missing.*"metadata.a"/,
    );
    expect(() => decodeEnvelope('[')).toThrow(/not valid JSON/);
    expect(() => decodeEnvelope(null)).toThrow(/expected an object, got null/);
  });

  it('drops optional keys present with undefined, as documented, on the fast path too', () => {
    const event = TaskCreated.create({ taskId: 't1' });
    const decoded = decodeEnvelope({ ...event, subject: undefined, streamVersion: undefined });
    expect(Object.keys(decoded)).not.toContain('subject');
    expect(Object.keys(decoded)).not.toContain('streamVersion');
    expect(decoded).toStrictEqual(event);
  });

  it('accepts JSON text and bytes and drops null optionals', () => {
    const event = TaskCreated.create({ taskId: 't1' });
    const text = JSON.stringify({ ...event, subject: null });
    expect(decodeEnvelope(text)).toEqual(event);
    expect(decodeEnvelope(new TextEncoder().encode(text))).toEqual(event);
  });
});

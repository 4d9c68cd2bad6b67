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

describe('CloudEvents conversion', () => {
  it('round-trips every envelope field losslessly, through JSON too', () => {
    const event = {
      ...TaskCreated.create(
        { taskId: 't1' },
        {
          subject: 's1',
          key: 'k1',
          correlationId: 'c1',
          causationId: 'x1',
          traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
          metadata: { tenant: 'acme' },
        },
      ),
      position: '42',
      stream: 'task-t1',
      streamVersion: 3,
    };
    const ce = toCloudEvent(event);
    expect(ce).toMatchObject({ specversion: '1.0', datacontenttype: 'application/json', dataversion: 2 });
    expect(fromCloudEvent(ce)).toEqual(event);
    expect(fromCloudEvent(JSON.stringify(ce))).toEqual(event);
    const minimal = TaskCreated.create({ taskId: 't2' });
    expect(fromCloudEvent(toCloudEvent(minimal))).toEqual(minimal);
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

  it('accepts JSON text and bytes and drops null optionals', () => {
    const event = TaskCreated.create({ taskId: 't1' });
    const text = JSON.stringify({ ...event, subject: null });
    expect(decodeEnvelope(text)).toEqual(event);
    expect(decodeEnvelope(new TextEncoder().encode(text))).toEqual(event);
  });
});

import { describe, expect, it } from 'vitest';
import { decodeEntry, encodeBody, entryFields, entryTime } from './codec';

describe('stream entry codec', () => {
  it('round-trips a message with its retry fields', () => {
    const fields = entryFields('m1', 'k', encodeBody({ a: [1, 'two'] }) ?? '', {
      group: 'g',
      attempt: 3,
      firstAttemptAt: 1_000,
      nonce: 'n',
    });
    expect(decodeEntry('1-0', 'topic', fields)).toEqual({
      ok: true,
      message: { id: 'm1', topic: 'topic', key: 'k', body: { a: [1, 'two'] } },
      bodyText: '{"a":[1,"two"]}',
      group: 'g',
      baseAttempt: 3,
      firstAttemptAt: 1_000,
      nonce: 'n',
    });
  });

  it('reports entries written by something else, keeping what they held', () => {
    const foreign = decodeEntry('5-1', 't', ['foo', 'bar']);
    expect(foreign).toMatchObject({ ok: false, messageId: '5-1', raw: '{"foo":"bar"}' });
    expect(decodeEntry('5-2', 't', ['v', '1', 'i', 'x', 'b', '{oops'])).toMatchObject({
      ok: false,
      messageId: 'x',
      problem: expect.stringMatching(/not valid JSON/),
    });
    expect(decodeEntry('5-3', 't', ['v', '1', 'b', '{}'])).toMatchObject({ ok: false });
    expect(decodeEntry('5-4', 't', null)).toMatchObject({ ok: false });
  });

  it('refuses bodies without a JSON form and reads entry times', () => {
    expect(encodeBody(undefined)).toBeUndefined();
    expect(encodeBody({ big: 1n })).toBeUndefined();
    expect(encodeBody('text')).toBe('"text"');
    expect(entryTime('1700000000000-3')).toBe(1_700_000_000_000);
  });
});

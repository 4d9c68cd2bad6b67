import { AssertionError } from 'node:assert';
import { describe, it, expect as vitestExpect } from 'vitest';
import { expect } from './expect';

const fails = (run: () => void, message: RegExp): void => {
  vitestExpect(run).toThrow(AssertionError);
  vitestExpect(run).toThrow(message);
};

describe("the conformance suites' expect", () => {
  it('passes what vitest passes', () => {
    expect(1, 'one').toBe(1);
    expect({ a: 1, b: undefined, c: [{ d: undefined }] }).toEqual({ a: 1, c: [{}] });
    expect({ a: [1, 2] }).toStrictEqual({ a: [1, 2] });
    expect(undefined).toBeUndefined();
    expect(5).toBeGreaterThanOrEqual(5);
    expect(5).toBeLessThanOrEqual(5);
    expect('2026-01-01T00:00:00.000Z').toMatch(/^\d{4}-/);
    expect(new TypeError('x')).toBeInstanceOf(Error);
  });

  it('fails what vitest fails, prefixed with what was checked', () => {
    fails(() => expect(1, 'the count').toBe(2), /the count/);
    fails(() => expect({ a: 1 }, 'the body').toEqual({ a: 2 }), /the body/);
    fails(() => expect({ a: undefined }).toStrictEqual({}), /Expected values to be strictly deep-equal/);
    fails(() => expect(null, 'position').toBeUndefined(), /position: expected undefined, got null/);
    fails(() => expect(4).toBeGreaterThanOrEqual(5), /expected >= 5, got 4/);
    fails(() => expect(6, 'jobs').toBeLessThanOrEqual(5), /jobs: expected <= 5, got 6/);
    fails(() => expect('5').toBeLessThanOrEqual(5), /expected <= 5, got "5"/);
    fails(() => expect(3, 'jobs per tick').toBe(2), /jobs per tick: expected 2, got 3/);
    fails(() => expect('x').toMatch(/y/), /expected to match \/y\/, got "x"/);
    fails(() => expect({}).toBeInstanceOf(Error), /expected an instance of Error/);
    fails(() => expect(Number.NaN).toBe(0), /expected 0, got NaN/);
  });
});

import { AssertionError, deepStrictEqual } from 'node:assert';

/**
 * The assertions the conformance suites make, on `node:assert` alone, so the suites run under any test runner
 * (vitest, node:test, jest with an async-describe-capable runner) and from the CJS build, where vitest's `expect`
 * cannot be loaded. The names and meanings follow vitest's matchers of the same name.
 */
export interface Expectation {
  /** `Object.is` equality. */
  toBe(expected: unknown): void;
  /** Deep equality that ignores properties whose value is `undefined`. */
  toEqual(expected: unknown): void;
  /** Deep equality that also compares `undefined` properties and prototypes. */
  toStrictEqual(expected: unknown): void;
  toBeUndefined(): void;
  toBeGreaterThanOrEqual(expected: number): void;
  toBeLessThanOrEqual(expected: number): void;
  toMatch(expected: RegExp): void;
  toBeInstanceOf(expected: abstract new (...args: never) => unknown): void;
}

/** Starts an assertion; `message` prefixes the failure, saying what was checked. */
export function expect(actual: unknown, message?: string): Expectation {
  const fail = (problem: string, expected: unknown): never => {
    throw new AssertionError({
      message: message === undefined ? problem : `${message}: ${problem}`,
      actual,
      expected,
    });
  };
  return {
    toBe(expected) {
      if (!Object.is(actual, expected)) fail(`expected ${show(expected)}, got ${show(actual)}`, expected);
    },
    toEqual(expected) {
      deepStrictEqual(withoutUndefined(actual), withoutUndefined(expected), message);
    },
    toStrictEqual(expected) {
      deepStrictEqual(actual, expected, message);
    },
    toBeUndefined() {
      if (actual !== undefined) fail(`expected undefined, got ${show(actual)}`, undefined);
    },
    toBeGreaterThanOrEqual(expected) {
      if (!(typeof actual === 'number' && actual >= expected))
        fail(`expected >= ${expected}, got ${show(actual)}`, expected);
    },
    toBeLessThanOrEqual(expected) {
      if (!(typeof actual === 'number' && actual <= expected))
        fail(`expected <= ${expected}, got ${show(actual)}`, expected);
    },
    toMatch(expected) {
      if (!(typeof actual === 'string' && expected.test(actual)))
        fail(`expected to match ${expected}, got ${show(actual)}`, expected);
    },
    toBeInstanceOf(expected) {
      if (!(actual instanceof expected))
        fail(`expected an instance of ${expected.name}, got ${show(actual)}`, expected);
    },
  };
}

function withoutUndefined(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutUndefined);
  if (value === null || typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype)
    return value;
  const copy: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value))
    if (field !== undefined) copy[key] = withoutUndefined(field);
  return copy;
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'number' || value === undefined) return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

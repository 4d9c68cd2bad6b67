import { InvalidOptionError } from '../errors';

/** Validates a finite number > 0, or returns `fallback` when it is not set. */
export function checkPositive(where: string, option: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidOptionError(where, option, `must be a finite number > 0, got ${String(value)}`);
  }
  return value;
}

/** Validates an integer >= 1 (or `Infinity` when `allowInfinity`), or returns `fallback` when it is not set. */
export function checkCount(
  where: string,
  option: string,
  value: unknown,
  fallback: number,
  allowInfinity = false,
): number {
  if (value === undefined) return fallback;
  if (allowInfinity && value === Number.POSITIVE_INFINITY) return value;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    const range = allowInfinity ? 'an integer >= 1 or Infinity' : 'an integer >= 1';
    throw new InvalidOptionError(where, option, `must be ${range}, got ${String(value)}`);
  }
  return value;
}

/** Validates an optional callback. */
export function checkFunction(where: string, option: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'function') {
    throw new InvalidOptionError(where, option, `must be a function, got ${typeof value}`);
  }
}

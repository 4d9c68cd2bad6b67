import { InvalidOptionError } from '../errors';
import type { Middleware } from './middleware';

/**
 * Which side of the bus a middleware wraps: publishing, consuming, or both.
 *
 * @example
 * ```ts
 * bus.use(rateLimit({ perSecond: 100, side: 'publish' satisfies MiddlewareSide }));
 * ```
 */
export type MiddlewareSide = 'publish' | 'consume' | 'both';

/** Validates a `side` option, or returns `fallback` when it is not set. */
export function checkSide(where: string, value: unknown, fallback: MiddlewareSide): MiddlewareSide {
  if (value === undefined) return fallback;
  if (value === 'publish' || value === 'consume' || value === 'both') return value;
  throw new InvalidOptionError(where, 'side', `must be 'publish', 'consume' or 'both', got ${String(value)}`);
}

/** Builds a middleware that wraps only the chosen side(s) with the given hooks. */
export function sided(
  name: string,
  side: MiddlewareSide,
  hooks: { publish: NonNullable<Middleware['publish']>; consume: NonNullable<Middleware['consume']> },
): Middleware {
  return {
    name,
    ...(side === 'consume' ? {} : { publish: hooks.publish }),
    ...(side === 'publish' ? {} : { consume: hooks.consume }),
  };
}

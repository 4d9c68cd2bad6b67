import { InvalidOptionError, type Logger } from '@relaybus/core';
import type { Cluster, Redis } from 'ioredis';
import { checkClient } from './connection';
import { checkPrefix } from './names';

/**
 * The options every factory of the package shares, checked: an ioredis client it can work with, a key prefix
 * (`defaultPrefix` when absent) and an optional logger.
 *
 * @throws `InvalidOptionError` naming `where` and the option, or `IncompatibleClientError` for the client.
 */
export function checkConnectionOptions(
  options: unknown,
  where: string,
  defaultPrefix: string,
): { readonly redis: Redis | Cluster; readonly prefix: string; readonly logger: Logger | undefined } {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError(where, 'options', 'must be an object with at least { redis }');
  }
  const { redis, prefix = defaultPrefix, logger } = options as Record<string, unknown>;
  if (typeof redis !== 'object' || redis === null || typeof (redis as Redis).duplicate !== 'function') {
    throw new InvalidOptionError(where, 'redis', 'must be an ioredis Redis or Cluster instance');
  }
  checkClient(redis as Redis | Cluster);
  checkPrefix(prefix, where);
  if (logger !== undefined && typeof (logger as Partial<Logger> | null)?.warn !== 'function') {
    throw new InvalidOptionError(where, 'logger', 'must have debug, info, warn and error methods');
  }
  return { redis: redis as Redis | Cluster, prefix, logger: logger as Logger | undefined };
}

/**
 * A duration option: `fallback` when absent.
 *
 * @throws `InvalidOptionError` naming `where` and `option` unless it is a finite number of milliseconds > 0.
 */
export function positiveMs(where: string, value: unknown, fallback: number, option: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidOptionError(
      where,
      option,
      `must be a finite number of milliseconds > 0, got ${String(value)}`,
    );
  }
  return value;
}

import { RelaybusError, TransportError } from '@relaybus/core';
import { describeAddress, isConnectionError, type RedisClient } from './connection';
import { RedisUnavailableError } from './errors';

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * What a failed operation rejects with: relaybus errors as they are; a connection that failed on the way (Redis went
 * away meanwhile) as a {@link RedisUnavailableError}, which callers retry; anything else as a `TransportError`.
 */
export function operationError(doing: string, error: unknown, redis: RedisClient): RelaybusError {
  if (error instanceof RelaybusError) return error;
  if (redis.status !== 'ready' || isConnectionError(error)) {
    return new RedisUnavailableError(
      describeAddress(redis),
      `went away while ${doing} (${describe(error)}); try again once it is back`,
      { cause: error },
    );
  }
  return new TransportError('redis', `${doing} failed: ${describe(error)}`, { cause: error });
}

import type { LuaScript, RedisClient } from '../connection';
import type { JobKeys } from './job-keys';

/** One queue on one client: what every job operation runs against. */
export interface QueueContext {
  readonly redis: RedisClient;
  readonly queue: string;
  readonly keys: JobKeys;
}

/** Runs a job script on the queue: `KEYS[1]` is its meta hash (routing it to the queue's slot), `ARGV[1]` its base. */
export function runScript(
  context: QueueContext,
  script: LuaScript,
  args: ReadonlyArray<string | number>,
): Promise<unknown> {
  return script.run(context.redis, [context.keys.meta], [context.keys.base, ...args]);
}

/** Splits `items` into chunks of at most `size`. */
export function chunks<T>(items: ReadonlyArray<T>, size: number): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += size) result.push(items.slice(start, start + size));
  return result;
}

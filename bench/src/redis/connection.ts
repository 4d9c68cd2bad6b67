import { Redis } from 'ioredis';

/** The Redis every redis contender runs against: `REDIS_URL`, else the local default. */
export const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/** Where and how to connect; fits both ioredis's and BullMQ's connection options. */
export interface ConnectionOptions {
  readonly host: string;
  readonly port: number;
  readonly db: number;
  readonly password?: string;
  /** BullMQ's blocking workers require `null`. */
  readonly maxRetriesPerRequest: null;
}

/** Connection options for `REDIS_URL`. */
export function connectionOptions(): ConnectionOptions {
  const url = new URL(REDIS_URL);
  return {
    host: url.hostname,
    port: Number(url.port || 6379),
    ...(url.password === '' ? {} : { password: decodeURIComponent(url.password) }),
    db: Number(url.pathname.slice(1) || 0),
    maxRetriesPerRequest: null,
  };
}

/** A new client for `REDIS_URL`. */
export function connect(): Redis {
  return new Redis({ ...connectionOptions() });
}

let runs = 0;

/** A key prefix no other run, process or user of the shared Redis has: every key a run makes starts with it. */
export function uniquePrefix(contender: string): string {
  runs += 1;
  return `relaybus-bench:${contender}:${process.pid}:${runs}:${Date.now().toString(36)}`;
}

/** Deletes every key that starts with `prefix`, so a run leaves the shared Redis as it found it. */
export async function deleteKeys(prefix: string): Promise<number> {
  const redis = connect();
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${escapeGlob(prefix)}*`, 'COUNT', 1_000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return deleted;
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (char) => `\\${char}`);
}

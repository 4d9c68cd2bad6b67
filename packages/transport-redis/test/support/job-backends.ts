import type { JobBackend } from '@relaybus/core';
import type { ClaimRequest, NewJob } from '@relaybus/core/transport-kit';
import { type RedisJobBackendOptions, redisJobBackend } from '@relaybus/transport-redis';
import type { Cluster, Redis } from 'ioredis';
import { afterAll, afterEach } from 'vitest';
import { unlinkUnder } from '../redis-fixture';
import { type ClientFlavour, type Connection, IOREDIS_5, newClient } from './client';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/** Job backends of one test file on one client, a key prefix per test, everything closed and removed after. */
export interface JobBackends {
  readonly redis: Redis | Cluster;
  /** A new key prefix, unique to this call. */
  prefix(): string;
  /** A backend on the shared client (backends on one prefix act as processes of one deployment). */
  open(prefix: string, options?: Partial<RedisJobBackendOptions>): JobBackend;
}

/**
 * Opens Redis job backends on one client of `flavour` (the shared Redis unless `connection` says otherwise), closes
 * them after each test and unlinks every key of the file after the file.
 *
 * @example
 * ```ts
 * const backends = useJobBackends('groups', flavour);
 * it('...', async () => { const backend = backends.open(backends.prefix()); });
 * ```
 */
export function useJobBackends(
  label: string,
  flavour: ClientFlavour = IOREDIS_5,
  connection: () => Connection = () => ({ url: REDIS_URL }),
): JobBackends {
  const filePrefix = `rb-test:${process.pid}:${Math.random().toString(36).slice(2, 8)}:${label}`;
  let client: Redis | Cluster | undefined;
  const redis = (): Redis | Cluster => {
    client ??= newClient(connection(), flavour);
    return client;
  };
  const opened: JobBackend[] = [];
  let prefixes = 0;
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((backend) => backend.close()));
  });
  afterAll(async () => {
    if (client === undefined) return;
    if (!client.isCluster) await unlinkUnder(client, filePrefix);
    client.disconnect();
  });
  return {
    get redis() {
      return redis();
    },
    prefix: () => `${filePrefix}:${++prefixes}`,
    open(prefix, options = {}) {
      const backend = redisJobBackend({ blockMs: 500, ...options, redis: redis(), prefix });
      opened.push(backend);
      return backend;
    },
  };
}

let ids = 0;

/** A job as a queue would hand it to `add`, due now; `fields` override. */
export function newJob(fields: Partial<NewJob> = {}): NewJob {
  const now = Date.now();
  return {
    id: `job-${process.pid}-${++ids}`,
    type: 'test:job',
    payload: { n: ids },
    priority: 'normal',
    runAt: now,
    enqueuedAt: now,
    maxAttempts: 3,
    maxCrashes: 3,
    timeoutMs: 60_000,
    ...fields,
  };
}

/** A claim request of `worker` on `queue`; `fields` override. */
export function claimRequest(queue: string, fields: Partial<ClaimRequest> = {}): ClaimRequest {
  return {
    queue,
    worker: 'worker-1',
    max: 10,
    leaseTtlMs: 5_000,
    groupConcurrency: 1,
    priority: { mode: 'strict' },
    ...fields,
  };
}

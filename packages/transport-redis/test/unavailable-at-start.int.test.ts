import { createEventBus, defineEvent, type Logger, TransportUnavailableError } from '@relaybus/core';
import { waitFor } from '@relaybus/core/testing';
import { freePort } from '@relaybus/test-support';
import { RedisUnavailableError, redisTransport } from '@relaybus/transport-redis';
import type { Redis } from 'ioredis';
import { afterEach, expect, it } from 'vitest';
import { z } from 'zod';
import { newClient } from './support/client';
import { forEachClient } from './support/for-each-client';
import { type RedisServer, startRedisServer } from './support/redis-server';
import { uniquePrefix } from './support/transports';

const TaskCreated = defineEvent('task.created', z.object({ taskId: z.string() }), {
  key: (data) => data.taskId,
});
const EVENTS = 20;

/** A logger that keeps every line, for checking what an operator would see. */
function lines(): { readonly logger: Logger; readonly logged: string[] } {
  const logged: string[] = [];
  const at =
    (level: string) =>
    (message: string): void => {
      logged.push(`${level} ${message}`);
    };
  return { logged, logger: { debug: () => {}, info: at('info'), warn: at('warn'), error: at('error') } };
}

forEachClient((flavour) => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('a worker started while Redis is down retries, registers once it is up, and handles every event once', async () => {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    const prefix = uniquePrefix('down-at-start');
    const name = `worker-${process.pid}-${port}`;
    const { logger, logged } = lines();
    const workerRedis = newClient({ url }, flavour, { connectionName: name });
    const worker = createEventBus({
      events: [TaskCreated],
      transport: redisTransport({ redis: workerRedis, prefix, connectTimeoutMs: 300, logger }),
      logger,
    });
    cleanups.push(async () => {
      await worker.close({ timeoutMs: 1_000 });
      workerRedis.disconnect();
    });
    const handled = new Map<string, number>();
    // Not awaited: a worker process starts its subscriptions and goes on.
    const sub = worker.subscribe(
      TaskCreated,
      (event) => {
        handled.set(event.data.taskId, (handled.get(event.data.taskId) ?? 0) + 1);
      },
      { group: 'mailer' },
    );

    await waitFor(() => sub.state === 'retrying', {
      timeoutMs: 5_000,
      message: "the subscription 'retrying'",
    });
    expect(sub.lastError).toBeInstanceOf(RedisUnavailableError);
    expect(sub.lastError).toBeInstanceOf(TransportUnavailableError);
    expect(sub.lastError).toMatchObject({ code: 'TRANSPORT_UNAVAILABLE', address: `127.0.0.1:${port}` });
    expect(sub.lastError?.message).toContain(`127.0.0.1:${port}`);
    // Several attempts fail while Redis stays down; none of them leaves anything behind (checked below).
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(sub.state).toBe('retrying');

    const server: RedisServer = await startRedisServer({ port });
    cleanups.push(() => server.stop());
    await waitFor(() => sub.state === 'active', {
      timeoutMs: 15_000,
      message: () => `the subscription 'active' (state ${sub.state}, last error ${sub.lastError?.message})`,
    });
    await sub;

    const publisherRedis = newClient({ url }, flavour);
    const publisher = createEventBus({
      events: [TaskCreated],
      transport: redisTransport({ redis: publisherRedis, prefix }),
    });
    cleanups.push(async () => {
      await publisher.close({ timeoutMs: 1_000 });
      publisherRedis.disconnect();
    });
    const ids = Array.from({ length: EVENTS }, (_, index) => `t-${index}`);
    for (const taskId of ids) await publisher.publish(TaskCreated, { taskId });
    await waitFor(() => ids.every((id) => handled.has(id)), {
      timeoutMs: 10_000,
      message: () => `${EVENTS} events handled (got ${handled.size})`,
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect([...handled.values()].every((count) => count === 1)).toBe(true);
    expect(handled.size).toBe(EVENTS);
    expect(sub.state).toBe('active');

    // What the failed attempts left: nothing. The worker holds its client, the control channel and one reader.
    const clients = String(await (publisherRedis as Redis).call('CLIENT', 'LIST'))
      .split('\n')
      .filter((line) => line.includes(` name=${name} `));
    expect(clients).toHaveLength(3);
    // The outage and the recovery are in the log, naming the address.
    expect(logged.some((line) => line.startsWith('warn') && line.includes('could not register'))).toBe(true);
    expect(logged.some((line) => line.startsWith('info') && line.includes('registered'))).toBe(true);
  }, 40_000);
});

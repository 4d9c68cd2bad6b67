// Runs in its own process (see consumer-process.ts): one redisTransport consumer that reports every delivery and
// ack over IPC, acks until told to hold, then holds every delivery unsettled until it is killed or closed.
import type { Delivery } from '@relaybus/core';
import { type RedisTransportOptions, redisTransport } from '@relaybus/transport-redis';
import { newClient } from './client';
import {
  CONSUMER_CONFIG_ENV,
  type ConsumerCommand,
  type ConsumerConfig,
  type ConsumerReport,
} from './consumer-protocol';

function report(message: ConsumerReport): void {
  process.send?.(message);
}

const raw = process.env[CONSUMER_CONFIG_ENV];
if (raw === undefined) throw new Error(`${CONSUMER_CONFIG_ENV} is not set`);
const config = JSON.parse(raw) as ConsumerConfig;

const redis = newClient(config.connection, config.flavour);
const transport = redisTransport({
  ...(config.transportOptions as Partial<RedisTransportOptions> | undefined),
  redis,
  prefix: config.prefix,
});

let holding = false;
const pendingAcks = new Set<Promise<void>>();
const released = new AbortController();

async function handle(delivery: Delivery): Promise<void> {
  const { id } = delivery.message;
  report({ type: 'received', id, attempt: delivery.attempt, held: holding });
  if (holding) {
    // Never settled: the lease is lost when this process dies, which is the point.
    await new Promise<void>((resolve) => released.signal.addEventListener('abort', () => resolve()));
    return;
  }
  const acking = Promise.resolve(delivery.ack()).then(() => report({ type: 'acked', id }));
  pendingAcks.add(acking);
  try {
    await acking;
  } finally {
    pendingAcks.delete(acking);
  }
}

const subscription = await transport.subscribe(
  {
    topics: config.topics,
    ...(config.group === undefined ? {} : { group: config.group }),
    concurrency: config.concurrency,
    visibilityTimeoutMs: config.visibilityTimeoutMs,
  },
  (delivery) =>
    handle(delivery).catch((error: unknown) => {
      report({
        type: 'error',
        message: error instanceof Error ? (error.stack ?? error.message) : String(error),
      });
    }),
);

process.on('message', (command: ConsumerCommand) => {
  if (command.type === 'hold') {
    holding = true;
    void Promise.allSettled([...pendingAcks]).then(() => report({ type: 'holding' }));
  } else if (command.type === 'close') {
    released.abort();
    void (async () => {
      await subscription.close({ timeoutMs: 2_000 });
      await transport.close({ timeoutMs: 2_000 });
      redis.disconnect();
      report({ type: 'closed' });
      process.disconnect();
    })();
  }
});
// The parent went away without closing us: do not linger.
process.on('disconnect', () => process.exit(0));

report({ type: 'ready', pid: process.pid });

import type { Delivery, Transport } from '@relaybus/core';
import {
  CONSUMER_CONFIG_ENV,
  type ConsumerCommand,
  type ConsumerConfig,
  type ConsumerReport,
} from './consumer-protocol';

function report(message: ConsumerReport): void {
  process.send?.(message);
}

/**
 * The body of a consumer process (the script {@link startConsumerProcess} runs): makes a transport with `open`
 * from the {@link ConsumerConfig} in its environment, subscribes, and reports every delivery and ack over IPC. It
 * acks until told to hold, then holds every delivery unsettled until it is killed or closed. `close()` of the
 * transport `open` returns must release everything the process holds (a client it made included), so that the
 * process can exit.
 *
 * @throws `Error` when the config is not in the environment.
 * @example
 * ```ts
 * // test/support/consumer-main.ts
 * export interface NatsConsumer { readonly servers: string; readonly prefix: string }
 * await serveConsumer<NatsConsumer>(({ servers, prefix }) => natsTransport({ servers, prefix }));
 * ```
 */
export async function serveConsumer<TTransport>(open: (options: TTransport) => Transport): Promise<void> {
  const raw = process.env[CONSUMER_CONFIG_ENV];
  if (raw === undefined) throw new Error(`${CONSUMER_CONFIG_ENV} is not set`);
  const config = JSON.parse(raw) as ConsumerConfig<TTransport>;
  const transport = open(config.transport);

  let holding = false;
  const pendingAcks = new Set<Promise<void>>();
  const released = new AbortController();

  async function handle(delivery: Delivery): Promise<void> {
    const { id } = delivery.message;
    report({ type: 'received', id, attempt: delivery.attempt, held: holding });
    if (holding) {
      // Never settled: the broker hands it out again only once this process dies, which is the point.
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
        report({ type: 'closed' });
        process.disconnect();
      })();
    }
  });
  // The parent went away without closing us: do not linger.
  process.on('disconnect', () => process.exit(0));

  report({ type: 'ready', pid: process.pid });
}

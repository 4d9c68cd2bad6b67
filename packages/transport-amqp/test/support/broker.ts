import { randomBytes } from 'node:crypto';
import { type ChannelModel, connect } from 'amqplib';
import { afterAll } from 'vitest';

/** The shared test broker (never restarted by tests: those start their own, see `own-broker.ts`). */
export const AMQP_URL = process.env['AMQP_URL'] ?? 'amqp://guest:guest@127.0.0.1:5672';

/** A unique exchange name for this test run, so runs never see each other's messages. */
export function uniqueExchange(label: string): string {
  return `rbt.${label}.${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

/** Group queues of test runs delete themselves when unused this long. */
export const TEST_GROUP_EXPIRES_MS = 60_000;

/**
 * Deletes, after the file's tests, the exchanges and dead-letter queue of every exchange name `track` was given
 * (group and delay queues expire by themselves).
 */
export function useCleanup(url = AMQP_URL): { track: (exchange: string) => string } {
  const exchanges = new Set<string>();
  afterAll(async () => {
    if (exchanges.size === 0) return;
    const model: ChannelModel = await connect(url);
    try {
      const channel = await model.createChannel();
      for (const exchange of exchanges) {
        for (const name of [exchange, `${exchange}.keyed`, `${exchange}.delay`]) {
          await channel.deleteExchange(name);
        }
        await channel.deleteQueue(`${exchange}.dead-letters`);
      }
      await channel.close();
    } finally {
      await model.close();
    }
  });
  return {
    track: (exchange) => {
      exchanges.add(exchange);
      return exchange;
    },
  };
}

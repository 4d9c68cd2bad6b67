import { randomBytes } from 'node:crypto';
import { type ChannelModel, connect } from 'amqplib';

/** The broker every AMQP contender runs against: `AMQP_URL`, else the local default. */
export const AMQP_URL = process.env['AMQP_URL'] ?? 'amqp://guest:guest@127.0.0.1:5672';

/** A unique exchange (and queue) name per run, so runs never share a queue. */
export function uniqueName(label: string): string {
  return `bench.${label}.${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

/**
 * Deletes what a relaybus run declared under `exchange`: its exchanges, dead-letter queue and the group's queues
 * (the bench event is unkeyed, but the ordered queue exists too).
 */
export async function deleteRelaybusTopology(exchange: string, group: string, topic: string): Promise<void> {
  const model: ChannelModel = await connect(AMQP_URL);
  try {
    const channel = await model.createChannel();
    for (const kind of ['ordered', 'shared'])
      await channel.deleteQueue(`${exchange}/${group}/${topic}/${kind}`);
    await channel.deleteQueue(`${exchange}.dead-letters`);
    for (const name of [exchange, `${exchange}.keyed`, `${exchange}.delay`]) {
      await channel.deleteExchange(name);
    }
    await channel.close();
  } finally {
    await model.close();
  }
}

import { type ChannelModel, connect } from 'amqplib';
import { BENCH_EVENT_TYPE } from '../core/bench-event';
import type { Contender, HandleProbe } from '../lib/contender';
import { Batcher } from '../redis/batcher';
import { AMQP_URL, uniqueName } from './connection';
import { PREFETCH } from './scenario';

/** The contender's name in tables and goals. */
export const RAW_AMQP_NAME = 'raw amqplib loop';

/**
 * The physical limit of the same work: a topic exchange and one durable quorum queue (what a relaybus group uses);
 * the publisher sends the JSON body of each event persistent on a confirm channel (what one event-loop turn
 * published, then one wait for the confirms); each consumer, on its own connection, parses the body, calls the
 * probe and acks each message. No envelope, validation, retries, delays or dead letters.
 */
export function rawAmqpContender(consumers: number): Contender {
  return {
    name: RAW_AMQP_NAME,
    async setup(probe) {
      const name = uniqueName('raw');
      const models: ChannelModel[] = [];
      const open = async (): Promise<ChannelModel> => {
        const model = await connect(AMQP_URL);
        models.push(model);
        return model;
      };
      const publisher = await (await open()).createConfirmChannel();
      await publisher.assertExchange(name, 'topic', { durable: true });
      await publisher.assertQueue(name, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
      await publisher.bindQueue(name, name, BENCH_EVENT_TYPE);
      let handled = 0;
      const count: HandleProbe = (id) => {
        probe(id);
        handled += 1;
      };
      for (let index = 0; index < consumers; index++) {
        const channel = await (await open()).createChannel();
        await channel.prefetch(PREFETCH);
        await channel.consume(name, (message) => {
          if (message === null) return;
          count((JSON.parse(message.content.toString()) as { id: number }).id);
          channel.ack(message);
        });
      }
      const batcher = new Batcher(async (ids) => {
        for (const id of ids) {
          const body = Buffer.from(JSON.stringify({ type: BENCH_EVENT_TYPE, id, name: 'x' }));
          publisher.publish(name, BENCH_EVENT_TYPE, body, {
            persistent: true,
            contentType: 'application/json',
          });
        }
        await publisher.waitForConfirms();
      });
      return {
        publish: (id) => batcher.add(id),
        handled: () => handled,
        async close() {
          await publisher.deleteQueue(name);
          await publisher.deleteExchange(name);
          await Promise.all(models.map((model) => model.close()));
        },
      };
    },
  };
}

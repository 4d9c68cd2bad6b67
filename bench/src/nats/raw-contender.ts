import { AckPolicy, type ConsumerMessages, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { BENCH_EVENT_TYPE } from '../core/bench-event';
import type { Contender, HandleProbe } from '../lib/contender';
import { connectNats, deleteStreams, uniqueStream } from './connection';
import { CONSUMER_CONCURRENCY, GROUP, type NatsScenario } from './scenario';

/** The contender's name in tables and goals. */
export const RAW_NAME = 'raw JetStream loop';

/**
 * The physical limit of the same work on JetStream: `js.publish` of a JSON body per event, awaiting its
 * acknowledgement; one durable pull consumer (explicit acks) shared by every consumer, each on its own connection
 * with `consume()` pulling up to 100 ahead; the handler parses the body and acks. No envelope, validation, retries,
 * visibility timeouts, per-key order or dead letters.
 */
export function rawContender(scenario: NatsScenario): Contender {
  return {
    name: RAW_NAME,
    async setup(probe) {
      const stream = uniqueStream('raw');
      const subject = `${stream}.${BENCH_EVENT_TYPE}`;
      const publisher = await connectNats();
      const jsm = await jetstreamManager(publisher);
      await jsm.streams.add({ name: stream, subjects: [`${stream}.>`] });
      await jsm.consumers.add(stream, {
        durable_name: GROUP,
        ack_policy: AckPolicy.Explicit,
        max_ack_pending: 10_000,
        filter_subject: subject,
      });
      let handled = 0;
      const count: HandleProbe = (id) => {
        probe(id);
        handled += 1;
      };
      const connections: NatsConnection[] = [publisher];
      const consuming: ConsumerMessages[] = [];
      for (let index = 0; index < scenario.consumers; index++) {
        const nc = await connectNats();
        connections.push(nc);
        const consumer = await jetstream(nc).consumers.get(stream, GROUP);
        consuming.push(
          await consumer.consume({
            max_messages: CONSUMER_CONCURRENCY,
            callback: (message) => {
              count((message.json() as { id: number }).id);
              message.ack();
            },
          }),
        );
      }
      const js = jetstream(publisher);
      return {
        publish: (id) => js.publish(subject, JSON.stringify({ type: BENCH_EVENT_TYPE, id, name: 'x' })),
        handled: () => handled,
        async close() {
          await Promise.all(consuming.map((messages) => messages.close()));
          await Promise.all(connections.map((nc) => nc.close()));
          await deleteStreams(stream);
        },
      };
    },
  };
}

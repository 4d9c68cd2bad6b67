import { createEventBus, type Envelope, type EventBus, silentLogger } from '@relaybus/core';
import { redisTransport } from '@relaybus/transport-redis';
import type { Redis } from 'ioredis';
import { BenchEvent, payload } from '../core/bench-event';
import type { Contender } from '../lib/contender';
import { Batcher, chunks } from './batcher';
import { connect, deleteKeys, uniquePrefix } from './connection';
import { CONSUMER_CONCURRENCY, GROUP, PUBLISH_BATCH, type RedisScenario } from './scenario';

/** The contender's name in tables and goals: `bus.publish` per event. */
export const RELAYBUS_NAME = 'relaybus';
/** The contender that publishes batches with `transport.publish`, as the raw loop and BullMQ do. */
export const RELAYBUS_BATCH_NAME = 'relaybus (batched publish)';

/** How relaybus publishes. */
export type RelaybusPublish =
  /** `bus.publish` per event, as applications do; concurrent calls share one connection. */
  | 'bus'
  /** `transport.publish` with batches of envelopes, the batched path a relay or importer uses. */
  | 'transport-batch';

/**
 * relaybus on the Redis transport: a publisher bus, and one bus per consumer (each with its own transport and
 * connection, as separate processes would have) subscribed in one group. Validation is on (the default), so
 * every event is validated on publish and on consume.
 */
export function relaybusRedisContender(scenario: RedisScenario, mode: RelaybusPublish = 'bus'): Contender {
  return {
    name: mode === 'bus' ? RELAYBUS_NAME : RELAYBUS_BATCH_NAME,
    async setup(probe) {
      const prefix = uniquePrefix('relaybus');
      const clients: Redis[] = [];
      const newBus = () => {
        const redis = connect();
        clients.push(redis);
        const transport = redisTransport({ redis, prefix });
        return { transport, bus: createEventBus({ events: [BenchEvent], transport, logger: silentLogger }) };
      };
      const publisher = newBus();
      const consumers: Array<EventBus<typeof BenchEvent>> = [];
      let handled = 0;
      for (let index = 0; index < scenario.consumers; index++) {
        const { bus } = newBus();
        const subscription = bus.subscribe(
          BenchEvent,
          (event) => {
            probe(event.data.id);
            handled += 1;
          },
          { group: GROUP, concurrency: CONSUMER_CONCURRENCY },
        );
        await subscription.ready;
        consumers.push(bus);
      }
      // Connected before the clock starts, as the other contenders' clients are.
      await Promise.all(clients.map((redis) => redis.ping()));
      const accepted = (ids: ReadonlyArray<number>): void => {
        if (scenario.consumers > 0) return;
        for (const id of ids) {
          probe(id);
          handled += 1;
        }
      };
      const batcher = new Batcher(async (ids) => {
        for (const batch of chunks(ids, PUBLISH_BATCH)) {
          const envelopes: Envelope[] = batch.map((id) => BenchEvent.create(payload(id)));
          await publisher.transport.publish(
            envelopes.map((envelope) => ({ id: envelope.id, topic: envelope.type, body: envelope })),
          );
          accepted(batch);
        }
      });
      return {
        publish:
          mode === 'bus'
            ? (id) => publisher.bus.publish(BenchEvent, payload(id)).then(() => accepted([id]))
            : (id) => batcher.add(id),
        handled: () => handled,
        async close() {
          await Promise.all(consumers.map((bus) => bus.close({ timeoutMs: 5_000 })));
          await publisher.bus.close({ timeoutMs: 5_000 });
          for (const redis of clients) redis.disconnect();
          await deleteKeys(prefix);
        },
      };
    },
  };
}

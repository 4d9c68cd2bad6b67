import { createEventBus, type Envelope, silentLogger, type Transport } from '@relaybus/core';
import { redisTransport } from '@relaybus/transport-redis';
import type { Redis } from 'ioredis';
import { BenchEvent, payload } from '../core/bench-event';
import type { Contender, HandleProbe } from '../lib/contender';
import { Batcher, chunks } from './batcher';
import { connect, deleteKeys, uniquePrefix } from './connection';
import { CONSUMER_CONCURRENCY, GROUP, PUBLISH_BATCH, type RedisScenario } from './scenario';

/** `bus.publish` per event and `bus.subscribe`: what an application does. */
export const RELAYBUS_NAME = 'relaybus';
/** `transport.publish` batches (as the raw loop and BullMQ publish) and `bus.subscribe`. */
export const RELAYBUS_BATCH_NAME = 'relaybus (batched publish)';
/** `transport.publish` batches and `transport.subscribe` acking each delivery: the transport without the bus. */
export const RELAYBUS_TRANSPORT_NAME = 'relaybus transport alone';

/** Which relaybus API each side uses. */
export type RelaybusVariant = 'bus' | 'batched-publish' | 'transport';

const NAMES: Record<RelaybusVariant, string> = {
  bus: RELAYBUS_NAME,
  'batched-publish': RELAYBUS_BATCH_NAME,
  transport: RELAYBUS_TRANSPORT_NAME,
};

interface Side {
  readonly transport: Transport;
  readonly bus: ReturnType<typeof createEventBus<[typeof BenchEvent]>>;
}

/**
 * relaybus on the Redis transport: a publishing side, and one side per consumer (each with its own transport
 * and connection, as separate processes would have) subscribed in one group. Through the bus, validation is on
 * (the default), so every event is validated on publish and on consume.
 */
export function relaybusRedisContender(scenario: RedisScenario, variant: RelaybusVariant = 'bus'): Contender {
  return {
    name: NAMES[variant],
    async setup(probe) {
      const prefix = uniquePrefix('relaybus');
      const clients: Redis[] = [];
      const newSide = (): Side => {
        const redis = connect();
        clients.push(redis);
        const transport = redisTransport({ redis, prefix });
        return { transport, bus: createEventBus({ events: [BenchEvent], transport, logger: silentLogger }) };
      };
      const publisher = newSide();
      const consumers: Side[] = [];
      let handled = 0;
      const count: HandleProbe = (id) => {
        probe(id);
        handled += 1;
      };
      for (let index = 0; index < scenario.consumers; index++) {
        const side = newSide();
        await subscribe(side, variant, count);
        consumers.push(side);
      }
      // Connected before the clock starts, as the other contenders' clients are.
      await Promise.all(clients.map((redis) => redis.ping()));
      const accepted = (ids: ReadonlyArray<number>): void => {
        if (scenario.consumers === 0) for (const id of ids) count(id);
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
          variant === 'bus'
            ? (id) => publisher.bus.publish(BenchEvent, payload(id)).then(() => accepted([id]))
            : (id) => batcher.add(id),
        handled: () => handled,
        async close() {
          await Promise.all(consumers.map((side) => side.bus.close({ timeoutMs: 5_000 })));
          await publisher.bus.close({ timeoutMs: 5_000 });
          for (const redis of clients) redis.disconnect();
          await deleteKeys(prefix);
        },
      };
    },
  };
}

async function subscribe(side: Side, variant: RelaybusVariant, count: HandleProbe): Promise<void> {
  if (variant === 'transport') {
    await side.transport.subscribe(
      { topics: [BenchEvent.type], group: GROUP, concurrency: CONSUMER_CONCURRENCY },
      (delivery) => {
        count((delivery.message.body as { data: { id: number } }).data.id);
        return delivery.ack();
      },
    );
    return;
  }
  const subscription = side.bus.subscribe(BenchEvent, (event) => count(event.data.id), {
    group: GROUP,
    concurrency: CONSUMER_CONCURRENCY,
  });
  await subscription.ready;
}

import { createEventBus, silentLogger, type Transport } from '@relaybus/core';
import { natsTransport } from '@relaybus/transport-nats';
import { BenchEvent, payload } from '../core/bench-event';
import type { Contender, HandleProbe } from '../lib/contender';
import { deleteStreams, NATS_URL, uniqueStream } from './connection';
import { CONSUMER_CONCURRENCY, GROUP, type NatsScenario } from './scenario';

/** `bus.publish` per event and `bus.subscribe`: what an application does. */
export const RELAYBUS_NAME = 'relaybus on NATS';
/** `transport.publish` and `transport.subscribe` with the raw loop's body: the transport's own cost, no bus. */
export const TRANSPORT_NAME = 'relaybus NATS transport alone';

/**
 * relaybus on the NATS transport: a publishing bus, and one bus per consumer (each with its own transport and
 * connection, as separate processes would have) subscribed in one group with concurrency 100. Validation is on (the
 * default), so every event is validated on publish and on consume.
 */
export function relaybusNatsContender(scenario: NatsScenario): Contender {
  return {
    name: RELAYBUS_NAME,
    async setup(probe) {
      const prefix = uniqueStream('relaybus');
      const transports: Transport[] = [];
      const newBus = () => {
        const transport = natsTransport({ servers: NATS_URL, prefix, logger: silentLogger });
        transports.push(transport);
        return createEventBus({ events: [BenchEvent], transport, logger: silentLogger });
      };
      const publisher = newBus();
      const consumers: Array<ReturnType<typeof newBus>> = [];
      let handled = 0;
      const count: HandleProbe = (id) => {
        probe(id);
        handled += 1;
      };
      for (let index = 0; index < scenario.consumers; index++) {
        const bus = newBus();
        await bus.subscribe(BenchEvent, (event) => count(event.data.id), {
          group: GROUP,
          concurrency: CONSUMER_CONCURRENCY,
        }).ready;
        consumers.push(bus);
      }
      // Connected and the stream created before the clock starts, as the raw loop's are.
      await transports[0]?.declareGroup({ group: GROUP, topics: [BenchEvent.type] });
      return {
        publish: (id) => publisher.publish(BenchEvent, payload(id)),
        handled: () => handled,
        async close() {
          await Promise.all(consumers.map((bus) => bus.close({ timeoutMs: 5_000 })));
          await publisher.close({ timeoutMs: 5_000 });
          await deleteStreams(prefix);
        },
      };
    },
  };
}

/**
 * The NATS transport without the bus: `transport.publish` of one message per event with the raw loop's JSON body,
 * and `transport.subscribe` in one group with concurrency 100 whose handler parses the body and acks. What it costs
 * over the raw loop is the transport's own (ids, partition lanes, delivery bookkeeping, acks the server confirmed).
 */
export function natsTransportContender(scenario: NatsScenario): Contender {
  return {
    name: TRANSPORT_NAME,
    async setup(probe) {
      const prefix = uniqueStream('transport');
      const transports: Transport[] = [];
      const open = (): Transport => {
        const transport = natsTransport({ servers: NATS_URL, prefix, logger: silentLogger });
        transports.push(transport);
        return transport;
      };
      const publisher = open();
      let handled = 0;
      for (let index = 0; index < scenario.consumers; index++) {
        await open().subscribe(
          { topics: [BenchEvent.type], group: GROUP, concurrency: CONSUMER_CONCURRENCY },
          (delivery) => {
            probe((JSON.parse(delivery.message.body as string) as { id: number }).id);
            handled += 1;
            return delivery.ack();
          },
        );
      }
      await publisher.declareGroup({ group: GROUP, topics: [BenchEvent.type] });
      return {
        publish: (id) =>
          publisher.publish([
            {
              id: String(id),
              topic: BenchEvent.type,
              body: JSON.stringify({ type: BenchEvent.type, id, name: 'x' }),
            },
          ]),
        handled: () => handled,
        async close() {
          await Promise.all(transports.map((transport) => transport.close({ timeoutMs: 5_000 })));
          await deleteStreams(prefix);
        },
      };
    },
  };
}

import { createEventBus, silentLogger, type Transport } from '@relaybus/core';
import { amqpTransport } from '@relaybus/transport-amqp';
import { BENCH_EVENT_TYPE, BenchEvent, payload } from '../core/bench-event';
import type { Contender, HandleProbe } from '../lib/contender';
import { AMQP_URL, deleteRelaybusTopology, uniqueName } from './connection';
import { CONSUMER_CONCURRENCY, GROUP, PREFETCH } from './scenario';

/** The contender's name in tables and goals. */
export const RELAYBUS_AMQP_NAME = 'relaybus amqp (bus)';

/**
 * relaybus on the AMQP transport, as an application uses it: `bus.publish` per event (publisher confirms), and
 * `bus.subscribe` in one group on each consumer's own transport and connection, validation on.
 */
export function relaybusAmqpContender(consumers: number): Contender {
  return {
    name: RELAYBUS_AMQP_NAME,
    async setup(probe) {
      const exchange = uniqueName('relaybus');
      const transports: Transport[] = [];
      const newBus = () => {
        const transport = amqpTransport({
          url: AMQP_URL,
          exchange,
          prefetch: PREFETCH,
          logger: silentLogger,
        });
        transports.push(transport);
        return createEventBus({ events: [BenchEvent], transport, logger: silentLogger });
      };
      let handled = 0;
      const count: HandleProbe = (id) => {
        probe(id);
        handled += 1;
      };
      const buses = [newBus()];
      for (let index = 0; index < consumers; index++) {
        const bus = newBus();
        buses.push(bus);
        await bus.subscribe(BenchEvent, (event) => count(event.data.id), {
          group: GROUP,
          concurrency: CONSUMER_CONCURRENCY,
        });
      }
      const publisher = buses[0] as ReturnType<typeof newBus>;
      // Connected and declared before the clock starts, as the raw loop's are.
      await transports[0]?.declareGroup({ group: GROUP, topics: [BENCH_EVENT_TYPE] });
      return {
        publish: (id) => publisher.publish(BenchEvent, payload(id)),
        handled: () => handled,
        async close() {
          await Promise.all(buses.map((bus) => bus.close({ timeoutMs: 5_000 })));
          await deleteRelaybusTopology(exchange, GROUP, BENCH_EVENT_TYPE);
        },
      };
    },
  };
}

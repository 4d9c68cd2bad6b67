import { createEventBus, type Middleware, memoryTransport, silentLogger } from '@relaybus/core';
import type { Contender } from '../lib/contender';
import { BenchEvent, payload } from './bench-event';

/** How the relaybus contender is configured. */
export interface RelaybusContenderOptions {
  readonly name: string;
  /** Validate on publish and on consume (the bus default), or neither. */
  readonly validate: boolean;
  /** Pass-through publish and consume middleware to add. */
  readonly middleware: number;
}

/** relaybus on the memory transport, one subscriber with room for the whole window. */
export function relaybusContender(options: RelaybusContenderOptions): Contender {
  return {
    name: options.name,
    async setup(probe) {
      const bus = createEventBus({
        events: [BenchEvent],
        transport: memoryTransport(),
        logger: silentLogger,
        validate: { publish: options.validate, consume: options.validate },
      });
      for (let index = 1; index <= options.middleware; index++) bus.use(passThrough(`pass-through-${index}`));
      let handled = 0;
      const subscription = bus.subscribe(
        BenchEvent,
        (event) => {
          probe(event.data.id);
          handled += 1;
        },
        { concurrency: 10_000 },
      );
      await subscription.ready;
      return {
        publish: (id) => bus.publish(BenchEvent, payload(id)),
        handled: () => handled,
        close: () => bus.close(),
      };
    },
  };
}

function passThrough(name: string): Middleware {
  return { name, publish: (_ctx, next) => next(), consume: (_ctx, next) => next() };
}

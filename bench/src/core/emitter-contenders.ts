import { EventEmitter as NodeEventEmitter } from 'node:events';
import Emittery from 'emittery';
import { EventEmitter as EventEmitter3 } from 'eventemitter3';
import mitt from 'mitt';
import type { Contender, HandleProbe } from '../lib/contender';
import { BENCH_EVENT_TYPE, type BenchPayload, benchSchema, payload } from './bench-event';

/**
 * What the bus does around a handler, done by hand for the emitters: with `validate`, the payload is parsed
 * once before emitting and once in the handler, so every contender does the same validation work.
 */
interface Work {
  readonly prepare: (id: number) => BenchPayload;
  readonly accept: (data: BenchPayload) => BenchPayload;
}

function work(validate: boolean): Work {
  if (!validate) return { prepare: payload, accept: (data) => data };
  return { prepare: (id) => benchSchema.parse(payload(id)), accept: (data) => benchSchema.parse(data) };
}

function counter(
  probe: HandleProbe,
  accept: Work['accept'],
): { handle: (data: BenchPayload) => void; handled: () => number } {
  let handled = 0;
  return {
    handle: (data) => {
      probe(accept(data).id);
      handled += 1;
    },
    handled: () => handled,
  };
}

/** `node:events` EventEmitter, synchronous. */
export function nodeEventsContender(validate: boolean): Contender {
  const { prepare, accept } = work(validate);
  return {
    name: 'node:events',
    async setup(probe) {
      const emitter = new NodeEventEmitter();
      const { handle, handled } = counter(probe, accept);
      emitter.on(BENCH_EVENT_TYPE, handle);
      return {
        publish: (id) => {
          emitter.emit(BENCH_EVENT_TYPE, prepare(id));
        },
        handled,
        close: async () => {
          emitter.removeAllListeners();
        },
      };
    },
  };
}

/** eventemitter3, synchronous. */
export function eventEmitter3Contender(validate: boolean): Contender {
  const { prepare, accept } = work(validate);
  return {
    name: 'eventemitter3',
    async setup(probe) {
      const emitter = new EventEmitter3<{ [BENCH_EVENT_TYPE]: [BenchPayload] }>();
      const { handle, handled } = counter(probe, accept);
      emitter.on(BENCH_EVENT_TYPE, handle);
      return {
        publish: (id) => {
          emitter.emit(BENCH_EVENT_TYPE, prepare(id));
        },
        handled,
        close: async () => {
          emitter.removeAllListeners();
        },
      };
    },
  };
}

/** mitt, synchronous. */
export function mittContender(validate: boolean): Contender {
  const { prepare, accept } = work(validate);
  return {
    name: 'mitt',
    async setup(probe) {
      const emitter = mitt<{ [BENCH_EVENT_TYPE]: BenchPayload }>();
      const { handle, handled } = counter(probe, accept);
      emitter.on(BENCH_EVENT_TYPE, handle);
      return {
        publish: (id) => {
          emitter.emit(BENCH_EVENT_TYPE, prepare(id));
        },
        handled,
        close: async () => {
          emitter.all.clear();
        },
      };
    },
  };
}

/** emittery: `emit` returns a promise that settles once the (asynchronously called) listeners have. */
export function emitteryContender(validate: boolean): Contender {
  const { prepare, accept } = work(validate);
  return {
    name: 'emittery',
    async setup(probe) {
      const emitter = new Emittery<{ [BENCH_EVENT_TYPE]: BenchPayload }>();
      const { handle, handled } = counter(probe, accept);
      emitter.on(BENCH_EVENT_TYPE, handle);
      return {
        publish: (id) => emitter.emit(BENCH_EVENT_TYPE, prepare(id)),
        handled,
        close: async () => {
          emitter.clearListeners();
        },
      };
    },
  };
}

/** Every emitter, in table order. */
export function emitterContenders(validate: boolean): Contender[] {
  return [
    nodeEventsContender(validate),
    eventEmitter3Contender(validate),
    mittContender(validate),
    emitteryContender(validate),
  ];
}

import { redisTransport } from '@relaybus/transport-redis';
import { BenchEvent, payload } from '../core/bench-event';
import type { Contender } from '../lib/contender';
import { SETTINGS } from '../lib/settings';
import { measureThroughput } from '../lib/throughput';
import { Batcher, chunks } from './batcher';
import { connect, deleteKeys, uniquePrefix } from './connection';

function transportOnly(): Contender {
  return {
    name: 'transport only',
    async setup(probe) {
      const prefix = uniquePrefix('probe');
      const a = connect();
      const b = connect();
      const pub = redisTransport({ redis: a, prefix });
      const sub = redisTransport({ redis: b, prefix });
      let handled = 0;
      await sub.subscribe({ topics: ['bench.event'], group: 'g', concurrency: 100 }, (d) => {
        probe((d.message.body as { data: { id: number } }).data.id);
        handled++;
        return d.ack();
      });
      const batcher = new Batcher(async (ids) => {
        for (const batch of chunks(ids, 100)) {
          const envs = batch.map((id) => BenchEvent.create(payload(id)));
          await pub.publish(envs.map((e) => ({ id: e.id, topic: e.type, body: e })));
        }
      });
      return {
        publish: (id) => batcher.add(id),
        handled: () => handled,
        async close() {
          await sub.close();
          await pub.close();
          a.disconnect();
          b.disconnect();
          await deleteKeys(prefix);
        },
      };
    },
  };
}
for (let i = 0; i < 4; i++) console.log(Math.round(await measureThroughput(transportOnly(), { ...SETTINGS, events: 30_000 })));
process.exit(0);

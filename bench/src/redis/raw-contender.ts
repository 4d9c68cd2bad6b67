import type { Redis } from 'ioredis';
import type { Contender, HandleProbe } from '../lib/contender';
import { Batcher, chunks } from './batcher';
import { connect, deleteKeys, uniquePrefix } from './connection';
import { GROUP, PUBLISH_BATCH, READ_BATCH, type RedisScenario, TOPIC } from './scenario';

/** The contender's name in tables and goals. */
export const RAW_NAME = 'raw ioredis loop';

/**
 * The physical limit: what any Redis Streams library has to do at least. Pipelined XADD batches of JSON
 * payloads; each consumer reads with XREADGROUP COUNT 100 BLOCK on its own connection, handles the batch, then
 * XACKs it with one call. No envelope, validation, retries, leases or dead letters.
 */
export function rawContender(scenario: RedisScenario): Contender {
  return {
    name: RAW_NAME,
    async setup(probe) {
      const prefix = uniquePrefix('raw');
      const stream = `${prefix}:${TOPIC}`;
      const publisher = connect();
      await publisher.xgroup('CREATE', stream, GROUP, '$', 'MKSTREAM');
      let handled = 0;
      const count: HandleProbe = (id) => {
        probe(id);
        handled += 1;
      };
      let stopped = false;
      const consumers = Array.from({ length: scenario.consumers }, (_, index) => {
        const redis = connect();
        const loop = consume(redis, stream, `consumer-${index}`, count, () => stopped);
        return { redis, loop };
      });
      const batcher = new Batcher(async (ids) => {
        for (const batch of chunks(ids, PUBLISH_BATCH)) {
          const pipeline = publisher.pipeline();
          for (const id of batch)
            pipeline.xadd(stream, '*', 'body', JSON.stringify({ type: TOPIC, id, name: 'x' }));
          const results = await pipeline.exec();
          const failed = results?.find(([error]) => error !== null);
          if (failed?.[0]) throw failed[0];
          if (scenario.consumers === 0) for (const id of batch) count(id);
        }
      });
      return {
        publish: (id) => batcher.add(id),
        handled: () => handled,
        async close() {
          stopped = true;
          for (const consumer of consumers) consumer.redis.disconnect();
          await Promise.all(consumers.map((consumer) => consumer.loop));
          publisher.disconnect();
          await deleteKeys(prefix);
        },
      };
    },
  };
}

async function consume(
  redis: Redis,
  stream: string,
  consumer: string,
  probe: HandleProbe,
  stopped: () => boolean,
): Promise<void> {
  while (!stopped()) {
    let reply: unknown;
    try {
      reply = await redis.xreadgroup(
        'GROUP',
        GROUP,
        consumer,
        'COUNT',
        READ_BATCH,
        'BLOCK',
        1_000,
        'STREAMS',
        stream,
        '>',
      );
    } catch (error) {
      if (stopped()) return;
      throw error;
    }
    const entries = streamEntries(reply);
    if (entries.length === 0) continue;
    const ids: string[] = [];
    for (const [entryId, fields] of entries) {
      const body = JSON.parse(fields[1] ?? '{}') as { id: number };
      probe(body.id);
      ids.push(entryId);
    }
    try {
      await redis.xack(stream, GROUP, ...ids);
    } catch (error) {
      if (stopped()) return;
      throw error;
    }
  }
}

/** The entries of an XREADGROUP reply for one stream: `[[stream, [[id, [field, value, ...]], ...]]]`. */
function streamEntries(reply: unknown): Array<[string, string[]]> {
  if (!Array.isArray(reply)) return [];
  const first: unknown = reply[0];
  if (!Array.isArray(first) || !Array.isArray(first[1])) return [];
  return first[1] as Array<[string, string[]]>;
}

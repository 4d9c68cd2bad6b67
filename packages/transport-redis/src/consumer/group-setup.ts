import { isBusyGroup, type RedisClient } from '../connection';
import type { ConsumerContext } from './consumer-context';

/**
 * Creates consumer group `group` on each of `streams` (creating the streams too). `$` starts at the end (messages
 * published from now on); `0` takes everything the stream holds. An existing group keeps its position.
 */
export async function createGroups(
  redis: RedisClient,
  streams: ReadonlyArray<string>,
  group: string,
  startId: '$' | '0',
): Promise<void> {
  const pipeline = redis.pipeline();
  for (const stream of streams) pipeline.xgroup('CREATE', stream, group, startId, 'MKSTREAM');
  const results = (await pipeline.exec()) ?? [];
  for (const [error] of results) if (error !== null && !isBusyGroup(error)) throw error;
}

/** Creates the subscription's consumer group on every partition stream of a topic (see {@link createGroups}). */
export function ensureGroups(
  context: ConsumerContext,
  topic: string,
  partitions: number,
  startId: '$' | '0',
): Promise<void> {
  return createGroups(context.redis, context.keys.streams(topic, partitions), context.group, startId);
}

/** Deletes a group-less subscriber's own group from every partition of a topic, with its lease keys. */
export async function destroyGroups(
  context: ConsumerContext,
  topic: string,
  partitions: number,
): Promise<void> {
  const pipeline = context.redis.pipeline();
  for (const stream of context.keys.streams(topic, partitions)) {
    pipeline.xgroup('DESTROY', stream, context.group);
  }
  pipeline.del(context.keys.members(topic, context.group), context.keys.leases(topic, context.group));
  await pipeline.exec();
}

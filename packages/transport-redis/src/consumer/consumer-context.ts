import type { Logger } from '@relaybus/core';
import type { RedisClient } from '../connection';
import type { RedisDeadLetters } from '../dead-letters';
import type { KeySpace } from '../names';
import type { ResolvedOptions } from '../options';
import type { TopicRegistry } from '../topic-registry';

/** What every part of one subscription shares. */
export interface ConsumerContext {
  readonly redis: RedisClient;
  readonly keys: KeySpace;
  readonly options: ResolvedOptions;
  readonly registry: TopicRegistry;
  readonly deadLetters: RedisDeadLetters;
  /** The Redis consumer group: the named group, or this subscriber's own ephemeral group. */
  readonly group: string;
  /** The group as the user named it; `undefined` for a group-less subscriber. */
  readonly namedGroup: string | undefined;
  /** This subscription's consumer (and member) name. */
  readonly member: string;
  readonly logger: Logger | undefined;
}

/** Whether an entry addressed to `target` (its `g` field) is for the subscriber of `context`. */
export function isAddressedTo(target: string | undefined, context: ConsumerContext): boolean {
  if (target === undefined || target === context.group) return true;
  return target === '~' && context.namedGroup === undefined;
}

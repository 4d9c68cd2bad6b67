import { type GroupDeclaration, InvalidOptionError, type TransportSubscribeOptions } from '@relaybus/core';
import {
  type ResolvedGroupDeclaration,
  type ResolvedTransportSubscribeOptions,
  resolveGroupDeclaration,
  resolveTransportSubscribeOptions,
} from '@relaybus/core/transport-kit';
import { topicProblem } from './names';

/** A subscription's filter and limits, validated. */
export type SubscriptionSpec = ResolvedTransportSubscribeOptions;

const WHERE = 'redisTransport.subscribe()';
const DECLARE_WHERE = 'redisTransport.declareGroup()';

/**
 * Validates subscribe options and applies defaults: the contract's checks (shared by every transport, the group-name
 * rule included), then the topics Redis keys are built from.
 *
 * @throws `InvalidOptionError` naming the offending option, or `InvalidPatternError` for a bad pattern.
 */
export function resolveSubscribeOptions(options: TransportSubscribeOptions): SubscriptionSpec {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError(WHERE, 'options', 'must be an object');
  }
  const spec = resolveTransportSubscribeOptions(WHERE, options);
  checkTopics(WHERE, options.topics ?? []);
  return spec;
}

/**
 * Validates a group declaration the way `subscribe` validates its options: the contract's checks, then the topics
 * Redis keys are built from.
 *
 * @throws `InvalidOptionError` naming the offending option, or `InvalidPatternError` for a bad pattern.
 */
export function resolveDeclaration(declaration: GroupDeclaration): ResolvedGroupDeclaration {
  const resolved = resolveGroupDeclaration(DECLARE_WHERE, declaration);
  checkTopics(DECLARE_WHERE, declaration.topics ?? []);
  return resolved;
}

function checkTopics(where: string, topics: ReadonlyArray<string>): void {
  topics.forEach((topic, index) => {
    const problem = topicProblem(topic);
    if (problem !== undefined) throw new InvalidOptionError(where, `topics[${index}]`, problem);
  });
}

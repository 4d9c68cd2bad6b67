import {
  InvalidOptionError,
  type ResolvedTransportSubscribeOptions,
  resolveTransportSubscribeOptions,
  type TransportSubscribeOptions,
} from '@relaybus/core';
import { checkGroup, topicProblem } from './names';

/** A subscription's filter and limits, validated. */
export type SubscriptionSpec = ResolvedTransportSubscribeOptions;

const WHERE = 'redisTransport.subscribe()';

/**
 * Validates subscribe options and applies defaults: the contract's checks (shared by every transport), then the
 * names Redis keys are built from (topics and group).
 *
 * @throws `InvalidOptionError` naming the offending option, or `InvalidPatternError` for a bad pattern.
 */
export function resolveSubscribeOptions(options: TransportSubscribeOptions): SubscriptionSpec {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError(WHERE, 'options', 'must be an object');
  }
  const spec = resolveTransportSubscribeOptions(WHERE, options);
  options.topics?.forEach((topic, index) => {
    const problem = topicProblem(topic);
    if (problem !== undefined) throw new InvalidOptionError(WHERE, `topics[${index}]`, problem);
  });
  if (spec.group !== undefined) checkGroup(spec.group, WHERE);
  return spec;
}

import type { ResolvedTransportSubscribeOptions } from '@relaybus/core/transport-kit';
import { filterTails } from '../names';
import type { FilterSpec } from '../topology';

const always = (): boolean => true;

/**
 * The filters a subscription (or group declaration) consumes: one per exact topic, and the NATS filter tails of its
 * pattern, which take only topics the pattern matches and that are not among the exact topics (so the union of
 * topics and pattern never delivers a message twice).
 */
export function filterSpecs(
  spec: Pick<ResolvedTransportSubscribeOptions, 'topics' | 'pattern' | 'match'>,
): FilterSpec[] {
  const filters: FilterSpec[] = spec.topics.map((topic) => ({ tail: topic, identity: '', accepts: always }));
  const { pattern, match } = spec;
  if (pattern === undefined || match === undefined) return filters;
  const exact = new Set(spec.topics);
  const skipped = spec.topics.filter((topic) => match(topic)).sort();
  const identity =
    skipped.length === 0 ? `pattern ${pattern}` : `pattern ${pattern} without ${skipped.join(',')}`;
  const accepts = (topic: string): boolean => match(topic) && !exact.has(topic);
  for (const tail of filterTails(pattern)) filters.push({ tail, identity, accepts });
  return filters;
}

import { type Consumer, DeliverPolicy, type JsMsg } from '@nats-io/jetstream';
import type { ResolvedTransportSubscribeOptions } from '@relaybus/core/transport-kit';
import type { Session } from '../connection';
import type { FilterSpec } from '../topology';
import type { ConsumerContext } from './consumer-context';
import { filterSpecs } from './filters';
import { Source } from './source';

/** Receives each message a source reads, with the filter it was read for. */
export type OnMessage = (raw: JsMsg, filter: FilterSpec) => void;

type Spec = Pick<
  ResolvedTransportSubscribeOptions,
  'topics' | 'pattern' | 'match' | 'group' | 'startFrom' | 'concurrency'
>;

/**
 * The sources of one subscription, not started yet: for a group, one per durable consumer of each filter and lane
 * (created here if the group is new); without a group, one ordered consumer per filter, all starting at the stream's
 * next sequence, read once before any is created, so nothing published after `subscribe()` resolves is missed.
 */
export async function openSources(
  context: ConsumerContext,
  session: Session,
  spec: Spec,
  onMessage: OnMessage,
): Promise<Source[]> {
  const { topology, options, logger } = context;
  const partitions = await topology.ensureStreams(session);
  const filters = filterSpecs(spec);
  const prefetch = options.prefetch ?? Math.min(256, Math.max(2, spec.concurrency * 2));
  const { group, startFrom } = spec;
  if (group !== undefined) {
    const consumers = topology.groupConsumers(group, filters, partitions);
    const infos = await topology.ensureGroup(session, group, consumers, startFrom);
    return consumers.flatMap((consumer, index) => {
      const info = infos[index];
      if (info === undefined) return [];
      let first = true;
      const open = async (): Promise<Consumer> => {
        if (first) {
          first = false;
          return session.js.consumers.getConsumerFromInfo(info);
        }
        // Reopening after consuming stopped: the consumer may have vanished, so make sure it exists.
        const [current] = await topology.ensureGroup(session, group, [consumer], startFrom);
        return session.js.consumers.getConsumerFromInfo(current ?? info);
      };
      const receive = (raw: JsMsg): void => onMessage(raw, consumer.filter);
      return [new Source(`consumer ${consumer.name} of group "${group}"`, open, prefetch, receive, logger)];
    });
  }
  const start = await topology.nextSequence(session);
  return filters.map((filter) => {
    let next = start;
    const open = (): Promise<Consumer> =>
      session.js.consumers.get(topology.names.stream, {
        filter_subjects: topology.names.filter('*', filter.tail),
        deliver_policy: DeliverPolicy.StartSequence,
        opt_start_seq: next,
      });
    const receive = (raw: JsMsg): void => {
      // A reopened ordered consumer goes on after the last message seen.
      next = raw.seq + 1;
      onMessage(raw, filter);
    };
    return new Source(`an ordered consumer of ${filter.tail}`, open, prefetch, receive, logger, true);
  });
}

import {
  AckPolicy,
  type ConsumerConfig,
  type ConsumerInfo,
  DeliverPolicy,
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import type { StartFrom } from '@relaybus/core';
import type { Session } from './connection';
import { API_CODE, apiCode } from './errors';
import { consumerName, type Names } from './names';
import type { ResolvedOptions } from './options';

const DUPLICATE_WINDOW_MS = 120_000;
const PARTITIONS_NOTE = /partitions=(\d+)/;

/** One filter a group consumes: a topic, or one NATS filter tail of a pattern. */
export interface FilterSpec {
  /** The subject tail after `<prefix>.<lane>.`. */
  readonly tail: string;
  /** What, besides the tail, tells this consumer apart (the pattern and the topics it leaves to other consumers). */
  readonly identity: string;
  /** Whether a message of this topic is for this consumer (the tail may let more through). */
  readonly accepts: (topic: string) => boolean;
}

/** A group's durable consumer on one filter and lane. */
export interface GroupConsumer {
  readonly name: string;
  readonly lane: string;
  readonly filter: FilterSpec;
}

/**
 * The streams of a deployment and the consumers of its groups: created on first use, idempotently, by whichever
 * process gets there first; the partition count is the one stored with the stream.
 */
export class Topology {
  readonly names: Names;
  readonly #options: ResolvedOptions;
  #ready: Promise<number> | undefined;

  constructor(names: Names, options: ResolvedOptions) {
    this.names = names;
    this.#options = options;
  }

  /** Creates the three streams unless they exist; resolves with the deployment's partition count. */
  ensureStreams(session: Session): Promise<number> {
    if (this.#ready === undefined) {
      const ready = this.#createStreams(session);
      this.#ready = ready;
      ready.catch(() => {
        if (this.#ready === ready) this.#ready = undefined;
      });
    }
    return this.#ready;
  }

  /** Forgets what was created, so the next use checks again (after the server lost its state, say). */
  reset(): void {
    this.#ready = undefined;
  }

  async #createStreams(session: Session): Promise<number> {
    const { names } = this;
    const { retention, partitions } = this.#options;
    const main: Partial<StreamConfig> & { name: string } = {
      name: names.stream,
      subjects: [`${names.prefix}.>`],
      description: `relaybus messages of prefix ${names.prefix}; partitions=${partitions}`,
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      max_age: nanos(retention.maxAgeMs),
      max_msgs: retention.maxMessages,
      max_bytes: retention.maxBytes,
      duplicate_window: nanos(DUPLICATE_WINDOW_MS),
    };
    const stored = await this.#ensureStream(session, main);
    await this.#ensureStream(session, {
      name: names.delayedStream,
      subjects: [names.delayedSubject],
      description: `relaybus delayed messages of prefix ${names.prefix}`,
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      duplicate_window: nanos(DUPLICATE_WINDOW_MS),
    });
    await this.#ensureStream(session, {
      name: names.deadStream,
      subjects: [names.deadSubject],
      description: `relaybus dead letters of prefix ${names.prefix}`,
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
    });
    const note = PARTITIONS_NOTE.exec(stored.description ?? '');
    return note === null ? partitions : Number(note[1]);
  }

  async #ensureStream(
    session: Session,
    config: Partial<StreamConfig> & { name: string },
  ): Promise<Partial<StreamConfig>> {
    const { name } = config;
    try {
      return (await session.jsm.streams.info(name)).config;
    } catch (error) {
      if (apiCode(error) !== API_CODE.streamNotFound) throw error;
    }
    try {
      return (await session.jsm.streams.add(config)).config;
    } catch (error) {
      // Another process created it meanwhile (with other options, perhaps): use what exists.
      if (apiCode(error) !== API_CODE.streamNameInUse) throw error;
      return (await session.jsm.streams.info(name)).config;
    }
  }

  /** The next stream sequence: where a group or subscriber that starts now begins. */
  async nextSequence(session: Session): Promise<number> {
    const info = await session.jsm.streams.info(this.names.stream);
    return info.state.last_seq + 1;
  }

  /** The consumers of a group on these filters: one per filter and lane. */
  groupConsumers(group: string, filters: ReadonlyArray<FilterSpec>, partitions: number): GroupConsumer[] {
    return filters.flatMap((filter) =>
      this.names.lanes(partitions).map((lane) => ({
        name: consumerName(group, `${filter.tail}\u0000${filter.identity}`, lane),
        lane,
        filter,
      })),
    );
  }

  /**
   * Creates the group's consumers that do not exist yet, all starting at one point: the first retained message
   * (`'earliest'`) or the next one published (`'latest'`). Existing consumers keep their position.
   */
  async ensureGroup(
    session: Session,
    group: string,
    consumers: ReadonlyArray<GroupConsumer>,
    startFrom: StartFrom,
  ): Promise<ConsumerInfo[]> {
    let start: Promise<number> | undefined;
    const startSequence = (): Promise<number> => {
      start ??= startFrom === 'earliest' ? Promise.resolve(0) : this.nextSequence(session);
      return start;
    };
    return Promise.all(
      consumers.map(async (consumer) => {
        try {
          return await session.jsm.consumers.info(this.names.stream, consumer.name);
        } catch (error) {
          if (apiCode(error) !== API_CODE.consumerNotFound) throw error;
        }
        const config = this.#consumerConfig(group, consumer, await startSequence());
        try {
          return await session.jsm.consumers.add(this.names.stream, config);
        } catch (error) {
          const code = apiCode(error);
          if (code !== API_CODE.consumerExists && code !== API_CODE.consumerNameExists) throw error;
          return session.jsm.consumers.info(this.names.stream, consumer.name);
        }
      }),
    );
  }

  #consumerConfig(group: string, consumer: GroupConsumer, startSequence: number): Partial<ConsumerConfig> {
    const { ackWaitMs, maxDeliver, maxAckPending } = this.#options;
    const keyed = consumer.lane !== 'u';
    const position: Partial<ConsumerConfig> =
      startSequence === 0
        ? { deliver_policy: DeliverPolicy.All }
        : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: startSequence };
    return {
      durable_name: consumer.name,
      description: `relaybus group ${group}: ${consumer.filter.tail} (${consumer.filter.identity || 'topic'}), lane ${consumer.lane}`,
      filter_subject: this.names.filter(consumer.lane, consumer.filter.tail),
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(ackWaitMs),
      max_deliver: maxDeliver,
      // One message in flight per partition across the whole group is what keeps per-key order.
      max_ack_pending: keyed ? 1 : maxAckPending,
      ...position,
    };
  }
}

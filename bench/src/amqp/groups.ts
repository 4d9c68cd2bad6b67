import type { BenchGroup, Contender } from '../lib/contender';
import { p99Goal, throughputGoal } from '../redis/goals';
import { relaybusRedisContender } from '../redis/relaybus-contender';
import { AMQP_URL } from './connection';
import { RAW_AMQP_NAME, rawAmqpContender } from './raw-contender';
import { RELAYBUS_AMQP_NAME, relaybusAmqpContender } from './relaybus-contender';
import { CONSUMER_CONCURRENCY, PREFETCH } from './scenario';

/** The Redis transport through the bus, for reference. */
export const RELAYBUS_REDIS_NAME = 'relaybus redis (bus)';

const NOTE =
  `RabbitMQ at ${AMQP_URL} (a unique exchange and queues per run, deleted after it); Redis at REDIS_URL for the ` +
  `reference. relaybus: \`bus.publish\` per event, \`bus.subscribe\` in one group with concurrency ` +
  `${CONSUMER_CONCURRENCY}, validation on, prefetch ${PREFETCH}, each consumer on its own connection. Raw: a quorum ` +
  `queue bound to a topic exchange, persistent JSON bodies on a confirm channel (one wait for the confirms per ` +
  `event-loop turn), consumers with prefetch ${PREFETCH} acking each message. Redis: the Redis transport through ` +
  'the bus, the same way.';

function contenders(consumers: number): Contender[] {
  return [
    relaybusAmqpContender(consumers),
    rawAmqpContender(consumers),
    { ...relaybusRedisContender({ consumers }), name: RELAYBUS_REDIS_NAME },
  ];
}

function throughputGroup(consumers: number): BenchGroup {
  return {
    id: `amqp/throughput-${consumers}`,
    title: `RabbitMQ, publish to handled, one group, ${consumers} consumer${consumers === 1 ? '' : 's'}`,
    baseline: RAW_AMQP_NAME,
    measures: ['throughput'],
    settings: { events: 20_000, window: 1_000, runs: 3 },
    note: NOTE,
    goals: [
      throughputGoal(
        RELAYBUS_AMQP_NAME,
        RAW_AMQP_NAME,
        0.7,
        `${RELAYBUS_AMQP_NAME} ≥ 70% of the raw loop's events/s`,
      ),
    ],
    contenders: contenders(consumers),
  };
}

/** The latency group: publish → handler entry at a steady 1,000 events/s, one consumer. */
const LATENCY_GROUP: BenchGroup = {
  id: 'amqp/latency-1k',
  title: 'RabbitMQ, publish → handle latency at a steady 1,000 events/s, one consumer',
  baseline: RAW_AMQP_NAME,
  measures: ['latency'],
  settings: { latencyRatePerSec: 1_000, latencyDurationMs: 2_000, latencyRuns: 3, latencyPacing: 'timer' },
  note: `Time from just before publish to handler entry. ${NOTE}`,
  goals: [],
  contenders: contenders(1),
};

/** Every AMQP group, by the part of the benchmark it belongs to. */
export const AMQP_GROUPS: Readonly<Record<'throughput' | 'latency', ReadonlyArray<BenchGroup>>> = {
  throughput: [throughputGroup(1), throughputGroup(4)],
  latency: [LATENCY_GROUP],
};

/** The p99 goal: relaybus's p99 at most 1.5x the raw loop's (checked once the raw figure is known). */
export function latencyGoal(rawP99Us: number): ReturnType<typeof p99Goal> {
  return p99Goal(RELAYBUS_AMQP_NAME, rawP99Us * 1.5, `${RELAYBUS_AMQP_NAME} p99 ≤ 1.5x the raw loop's`);
}

import type { BenchGroup, Contender } from '../lib/contender';
import { BULLMQ_NAME, bullmqContender } from './bullmq-contender';
import { REDIS_URL } from './connection';
import { p99Goal, throughputGoal } from './goals';
import { RAW_NAME, rawContender } from './raw-contender';
import { RELAYBUS_BATCH_NAME, RELAYBUS_NAME, relaybusRedisContender } from './relaybus-contender';
import { CONSUMER_CONCURRENCY, PUBLISH_BATCH, READ_BATCH, type RedisScenario } from './scenario';

const SETUP = `Redis at ${REDIS_URL}, a unique key prefix per run, keys deleted after it.`;
const CONTENDERS =
  `relaybus: \`bus.subscribe\` with concurrency ${CONSUMER_CONCURRENCY}, validation on, publishing with ` +
  `\`bus.publish\` per event, or with \`transport.publish\` batches of ${PUBLISH_BATCH} ("batched publish"); ` +
  `"transport alone" also consumes with \`transport.subscribe\`, no bus. ` +
  `Raw: pipelined XADD batches, XREADGROUP COUNT ${READ_BATCH} BLOCK, one XACK per batch. BullMQ: \`addBulk\` ` +
  `of ${PUBLISH_BATCH}, a Worker per consumer with concurrency ${CONSUMER_CONCURRENCY}, removeOnComplete.`;

function contenders(scenario: RedisScenario, transportAlone = false): Contender[] {
  return [
    relaybusRedisContender(scenario),
    relaybusRedisContender(scenario, 'batched-publish'),
    ...(transportAlone ? [relaybusRedisContender(scenario, 'transport')] : []),
    rawContender(scenario),
    bullmqContender(scenario),
  ];
}

function consumeGroup(consumers: number): BenchGroup {
  return {
    id: `redis/consume-${consumers}`,
    title: `Redis, publish to handled, one group, ${consumers} consumer${consumers === 1 ? '' : 's'}`,
    baseline: RAW_NAME,
    compareWith: [BULLMQ_NAME],
    measures: ['throughput'],
    settings: { events: 30_000, window: 1_000, runs: 3 },
    note: `${SETUP} Each consumer has its own connection, in the measuring process. ${CONTENDERS}`,
    goals: [RELAYBUS_NAME, RELAYBUS_BATCH_NAME].flatMap((name) => [
      throughputGoal(name, RAW_NAME, 0.7, `${name} ≥ 70% of the raw loop's events/s`),
      throughputGoal(name, BULLMQ_NAME, 4, `${name} ≥ 4x BullMQ's events/s`),
    ]),
    contenders: contenders({ consumers }, true),
  };
}

function latencyGroup(ratePerSec: number, durationMs: number, runs: number, goal: boolean): BenchGroup {
  const rate = new Intl.NumberFormat('en-US').format(ratePerSec);
  return {
    id: `redis/latency-${ratePerSec / 1_000}k`,
    title: `Redis, publish → handle latency at a steady ${rate} events/s, one consumer`,
    baseline: RAW_NAME,
    measures: ['latency'],
    settings: {
      latencyRatePerSec: ratePerSec,
      latencyDurationMs: durationMs,
      latencyRuns: runs,
      latencyPacing: 'timer',
    },
    note: `${SETUP} Time from just before publish to handler entry. ${CONTENDERS}`,
    goals: goal ? [p99Goal(RELAYBUS_NAME, 1_000, `${RELAYBUS_NAME} p99 ≤ 1 ms`)] : [],
    contenders: contenders({ consumers: 1 }),
  };
}

/** The Redis groups: publish throughput, end-to-end throughput with 1 and 4 consumers, latency at two rates. */
export const REDIS_GROUPS: ReadonlyArray<BenchGroup> = [
  {
    id: 'redis/publish',
    title: 'Redis, publish throughput (no consumer)',
    baseline: RAW_NAME,
    compareWith: [BULLMQ_NAME],
    measures: ['throughput'],
    settings: { events: 50_000, window: 1_000, runs: 3 },
    note:
      `${SETUP} An event counts once its publish call resolved. Batched contenders send what was published ` +
      `in one event-loop turn in calls of ${PUBLISH_BATCH}. ${CONTENDERS}`,
    contenders: contenders({ consumers: 0 }),
  },
  consumeGroup(1),
  consumeGroup(4),
  latencyGroup(1_000, 2_000, 5, true),
  latencyGroup(10_000, 1_000, 3, false),
];

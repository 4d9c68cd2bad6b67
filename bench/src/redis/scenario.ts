/** How a redis contender is set up for a group. */
export interface RedisScenario {
  /** Consumers in the one group, each with its own connection; 0 measures publishing alone. */
  readonly consumers: number;
}

/** Messages per publish call (XADD pipeline, `addBulk`, `transport.publish`). */
export const PUBLISH_BATCH = 100;
/** Entries per read of the raw loop (XREADGROUP COUNT), and the transport's read batch where it has one. */
export const READ_BATCH = 100;
/** Deliveries each consumer handles at once: relaybus `concurrency`, BullMQ Worker `concurrency`. */
export const CONSUMER_CONCURRENCY = 100;
/** The topic, stream or queue every contender uses. */
export const TOPIC = 'bench.event';
/** The consumer group. */
export const GROUP = 'bench';

/** Describes a scenario in a contender's name. */
export function scenarioLabel(scenario: RedisScenario): string {
  if (scenario.consumers === 0) return 'publish only';
  return `${scenario.consumers} consumer${scenario.consumers === 1 ? '' : 's'}`;
}

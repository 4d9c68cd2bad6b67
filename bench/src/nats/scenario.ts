/** How a nats contender is set up for one part. */
export interface NatsScenario {
  /** Consumers in the one group, each with its own connection. */
  readonly consumers: number;
}

/** Deliveries each consumer handles at once (relaybus `concurrency`), and messages each raw consumer pulls ahead. */
export const CONSUMER_CONCURRENCY = 100;
/** The consumer group (durable consumer of the raw loop). */
export const GROUP = 'bench';

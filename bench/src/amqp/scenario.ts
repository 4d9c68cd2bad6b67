/** Deliveries each consumer handles at once (relaybus `concurrency`; the raw loop's prefetch bounds it). */
export const CONSUMER_CONCURRENCY = 100;
/** Unacknowledged messages the broker sends each consumer ahead (`basic.qos`), the same for every contender. */
export const PREFETCH = 200;
/** The consumer group. */
export const GROUP = 'bench';

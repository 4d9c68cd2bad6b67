/**
 * What runs inside a child process that a test started: the body of a package's `consumer-main.ts`. Kept apart
 * from the main entry, which loads vitest, and vitest cannot be loaded outside its runner.
 *
 * @module
 */
export type { ConsumerConfig, ConsumerSubscription } from './consumers/consumer-protocol';
export { serveConsumer } from './consumers/serve-consumer';

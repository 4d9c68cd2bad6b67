/**
 * Test helpers shared by the relaybus adapters (private, never published): child processes that die with the
 * test run, broker processes, examples run as a user would, and a transport consumer in a process of its own that
 * a test can SIGKILL. Broker-specific launchers stay in their packages and are built on {@link ServerProcess}. The
 * body of a consumer process, `serveConsumer`, is in `@relaybus/test-support/child`: this entry loads vitest, which
 * a child process cannot.
 *
 * @module
 */
export type { ConsumerProcess } from './consumers/consumer-process';
export { startConsumerProcess } from './consumers/consumer-process';
export type { ConsumerConfig, ConsumerSubscription } from './consumers/consumer-protocol';
export type { KilledConsumerScenario } from './consumers/killed-consumer';
export { expectKilledConsumerLosesNothing } from './consumers/killed-consumer';
export type { LoggedDelivery } from './messages/delivery-log';
export { DeliveryLog } from './messages/delivery-log';
export { messages } from './messages/test-messages';
export { removeDir, trackChild, trackDir } from './processes/cleanup';
export { freePort, freePorts } from './processes/free-port';
export type { ExampleRun } from './processes/run-example';
export { runExample } from './processes/run-example';
export type { ServerProcessOptions, ServerReadyWait } from './processes/server-process';
export { ServerProcess } from './processes/server-process';
export type { ProcessExit, TsProcess, TsProcessOptions } from './processes/ts-process';
export { besideModule, startReadyTsProcess, startTsProcess } from './processes/ts-process';

export type { CollectedDelivery, CollectOptions, Collector } from './collect';
export { collect } from './collect';
export { describeEventStoreConformance } from './event-store/event-store-conformance';
export type {
  EventStoreConformanceOptions,
  EventStoreFactory,
  EventStoreFactoryContext,
  EventStoreScenarioName,
} from './event-store/options';
export { describeJobQueueConformance } from './jobs/job-queue-conformance';
export type {
  JobBackendFactory,
  JobBackendFactoryContext,
  JobQueueConformanceOptions,
  JobQueueScenarioName,
} from './jobs/options';
export type {
  ScenarioName,
  TransportConformanceOptions,
  TransportFactory,
  TransportFactoryContext,
} from './transport/options';
export { describeTransportConformance } from './transport-conformance';
export type { WaitForOptions } from './wait-for';
export { waitFor } from './wait-for';

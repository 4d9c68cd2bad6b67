export type { Aggregate, RaiseOptions } from './aggregate/aggregate';
export type {
  AggregateDefinition,
  AggregateSnapshotPolicy,
  DefineAggregateOptions,
} from './aggregate/define-aggregate';
export { defineAggregate } from './aggregate/define-aggregate';
export type { LoadAggregateOptions } from './aggregate/load-aggregate';
export { loadAggregate } from './aggregate/load-aggregate';
export { memorySnapshotStore } from './aggregate/memory-snapshot-store';
export type { SaveAggregateOptions } from './aggregate/save-aggregate';
export { saveAggregate } from './aggregate/save-aggregate';
export type { Snapshot, SnapshotStore } from './aggregate/snapshot-store';
export { serializeError } from './bus/attempt';
export { createEventBus } from './bus/create-event-bus';
export type { BackoffOptions, RetryOptions, RetryPolicy } from './bus/retry';
export { resolveRetry } from './bus/retry';
export type {
  DeclareGroupOptions,
  EventBus,
  EventBusOptions,
  Handler,
  HandlerContext,
  PendingSubscription,
  PublishOptions,
  SubscribeOptions,
  SubscribeTarget,
  Subscription,
  SubscriptionState,
  TargetEvent,
  ValidTarget,
} from './bus/types';
export type {
  RelaybusErrorCode,
  RelaybusErrorOptions,
  TransportErrorOptions,
  ValidationIssue,
} from './errors';
export {
  CheckpointConflictError,
  CircuitOpenError,
  ClosedError,
  DuplicateJobError,
  HandlerError,
  HandlerTimeoutError,
  InvalidEnvelopeError,
  InvalidOptionError,
  InvalidPatternError,
  InvalidPositionError,
  NonRetryableError,
  PayloadTooLargeError,
  ProjectionError,
  RelaybusError,
  StoreError,
  StoreUnavailableError,
  StreamNotFoundError,
  TransportError,
  TransportUnavailableError,
  UnknownEventError,
  UnknownJobError,
  UnknownStreamEventError,
  ValidationError,
  VersionConflictError,
} from './errors';
export type { CloudEvent } from './events/cloud-event';
export { fromCloudEvent, toCloudEvent } from './events/cloud-event';
export { decodeEnvelope } from './events/decode-envelope';
export type {
  AnyEventDefinition,
  DefineEventOptions,
  EventData,
  EventDefinition,
  EventInput,
  EventOf,
  Upcasters,
} from './events/define-event';
export { defineEvent } from './events/define-event';
export type { Envelope, EnvelopeOptions, Metadata } from './events/envelope';
export { uuidv7 } from './events/uuid';
export type {
  DeadJobReason,
  GroupRate,
  JobAttemptError,
  JobBackend,
  JobPage,
  JobPriority,
  JobRecord,
  JobState,
  QueueCounts,
} from './jobs/backend';
export { JOB_PRIORITIES, JOB_STATES } from './jobs/backend';
export { createJobQueue } from './jobs/create-job-queue';
export type { AnyJobDefinition, JobDefinition, JobInput, JobPayload } from './jobs/define-job';
export { defineJob } from './jobs/define-job';
export type { MemoryJobBackendOptions } from './jobs/memory/memory-job-backend';
export { memoryJobBackend } from './jobs/memory/memory-job-backend';
export { JOB_ENQUEUED_EVENT } from './jobs/outbox-jobs';
export type {
  DeadJobs,
  EnqueueItem,
  EnqueueOptions,
  EnqueueResult,
  JobContext,
  JobDefaults,
  JobHandlers,
  JobQueue,
  JobQueueOptions,
  JobScheduler,
  JobWorker,
  OutboxJobReceiver,
  SchedulerOptions,
  ScheduleSpec,
  UniqueOptions,
  WorkOptions,
} from './jobs/types';
export type { Logger } from './logger';
export { consoleLogger, silentLogger } from './logger';
export type { CircuitState } from './middleware/circuit';
export type { CircuitBreakerMiddleware, CircuitBreakerOptions } from './middleware/circuit-breaker';
export { circuitBreaker } from './middleware/circuit-breaker';
export type { FilterOptions, FilterPredicate } from './middleware/filter';
export { filter } from './middleware/filter';
export type { IdempotencyOptions } from './middleware/idempotency';
export { idempotency } from './middleware/idempotency';
export type { IdempotencyClaim, IdempotencyStore } from './middleware/idempotency-store';
export type { LoggingLevel, LoggingOptions } from './middleware/logging';
export { logging } from './middleware/logging';
export type { MemoryIdempotencyStoreOptions } from './middleware/memory-idempotency-store';
export { memoryIdempotencyStore } from './middleware/memory-idempotency-store';
export type { MetricsMiddleware, MetricsOptions } from './middleware/metrics';
export { metrics } from './middleware/metrics';
export type { MetricsHistogramSummary, MetricsSample, MetricsSnapshot } from './middleware/metrics-snapshot';
export type { ConsumeContext, Middleware, PublishContext } from './middleware/middleware';
export type { RateLimitOptions } from './middleware/rate-limit';
export { rateLimit } from './middleware/rate-limit';
export type { RegisteredCounter, RegisteredHistogram } from './middleware/registered-metrics';
export type { MiddlewareSide } from './middleware/side';
export type { TimeoutOptions } from './middleware/timeout';
export { timeout } from './middleware/timeout';
export type {
  OtelApiLike,
  OtelContextLike,
  OtelSpanLike,
  OtelTracerLike,
  TracingOptions,
} from './middleware/tracing';
export { tracing } from './middleware/tracing';
export type { EnvelopeTransform, TransformOptions } from './middleware/transform';
export { transform } from './middleware/transform';
export type { CheckpointStore } from './projection/checkpoint-store';
export type {
  DefineProjectionOptions,
  ProjectionContext,
  ProjectionDefinition,
  ProjectionHandlers,
} from './projection/define-projection';
export { defineProjection } from './projection/define-projection';
export { memoryCheckpointStore } from './projection/memory-checkpoint-store';
export type { MemoryReadModel } from './projection/memory-read-model';
export { memoryReadModel } from './projection/memory-read-model';
export type { ReadModel } from './projection/read-model';
export type { ProjectionHandle } from './projection/start-projection';
export { startProjection } from './projection/start-projection';
export type { StartProjectionOptions } from './projection/start-projection-options';
export type {
  AppendOptions,
  AppendResult,
  EventPage,
  EventStore,
  ExpectedVersion,
  ReadAllOptions,
  ReadStreamOptions,
  StoredEvent,
} from './store/event-store';
export { assertExpectedVersion, checkAppendArguments } from './store/expected-version';
export type { MemoryEventStoreOptions } from './store/memory-event-store';
export { memoryEventStore } from './store/memory-event-store';
export { readAllPages, subscribeToAll } from './store/read-helpers';
export type { ReplayOptions, ReplayProgress } from './store/replay';
export { replay } from './store/replay';
export type { MemoryTransportOptions } from './transport/memory-transport';
export { memoryTransport } from './transport/memory-transport';
export type { TopicMatches } from './transport/topic-pattern';
export type {
  DeadLetter,
  DeadLetterFilter,
  DeadLetterInput,
  DeadLetterQueue,
  DeadLetterReason,
  Delivery,
  GroupDeclaration,
  SerializedError,
  StartFrom,
  Transport,
  TransportCapabilities,
  TransportMessage,
  TransportSubscribeOptions,
  TransportSubscription,
} from './transport/transport';

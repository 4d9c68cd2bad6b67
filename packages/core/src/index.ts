export { createEventBus } from './bus/create-event-bus';
export type {
  EventBus,
  EventBusOptions,
  Handler,
  HandlerContext,
  PublishOptions,
  SubscribeOptions,
  SubscribeTarget,
  Subscription,
  TargetEvent,
} from './bus/types';
export type { BackoffOptions, RetryOptions } from './bus/retry';
export { serializeError } from './bus/attempt';

export { defineEvent } from './events/define-event';
export type {
  AnyEventDefinition,
  DefineEventOptions,
  EventData,
  EventDefinition,
  EventInput,
  EventOf,
  Upcasters,
} from './events/define-event';
export type { Envelope, EnvelopeOptions, Metadata } from './events/envelope';
export { decodeEnvelope } from './events/decode-envelope';
export { toCloudEvent, fromCloudEvent } from './events/cloud-event';
export type { CloudEvent } from './events/cloud-event';
export { uuidv7 } from './events/uuid';

export {
  RelaybusError,
  ValidationError,
  UnknownEventError,
  InvalidOptionError,
  InvalidPatternError,
  InvalidEnvelopeError,
  HandlerError,
  HandlerTimeoutError,
  ClosedError,
  NonRetryableError,
  TransportError,
  CircuitOpenError,
} from './errors';
export type { RelaybusErrorCode, RelaybusErrorOptions, ValidationIssue } from './errors';

export { consoleLogger, silentLogger } from './logger';
export type { Logger } from './logger';

export type { ConsumeContext, Middleware, PublishContext } from './middleware/middleware';
export { timeout } from './middleware/timeout';
export type { TimeoutOptions } from './middleware/timeout';

export { memoryTransport } from './transport/memory-transport';
export type { MemoryTransportOptions } from './transport/memory-transport';
export { compilePattern } from './transport/topic-pattern';
export type { TopicMatches } from './transport/topic-pattern';
export type {
  DeadLetter,
  DeadLetterFilter,
  DeadLetterInput,
  DeadLetterQueue,
  DeadLetterReason,
  Delivery,
  SerializedError,
  Transport,
  TransportCapabilities,
  TransportMessage,
  TransportSubscribeOptions,
  TransportSubscription,
} from './transport/transport';

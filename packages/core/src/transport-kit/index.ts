/**
 * The transport kit: what every relaybus transport needs besides its broker, for adapter authors. A transport built
 * on it is mostly broker code: connect, declare topology, publish, consume, settle. See the memory transport
 * (`packages/core/src/transport/memory-transport.ts`) and the Redis, AMQP and NATS adapters for worked examples, and
 * check an adapter with `describeTransportConformance` from `@relaybus/core/testing`.
 *
 * - Deliveries: {@link KitDelivery} (settle once, lazy signal, nack checks, take-back), {@link DeliveryState}.
 * - Dispatch: {@link KeyedDispatcher} (concurrency, per-key order, visibility sweep, idle wait),
 *   {@link invokeHandler}, {@link Fifo}, {@link KeyLocks}.
 * - Closing: {@link Closer} (one close, timeout checks, abort signal) for a transport, {@link SubscriptionHandle}
 *   for a subscription.
 * - Options: {@link resolveTransportSubscribeOptions}, {@link resolveGroupDeclaration}, {@link checkGroupName},
 *   {@link compilePattern}.
 * - Publishing and errors: {@link checkPublishBatch}, {@link connectionError}, {@link isUnreachable}.
 * - Dead letters: {@link createDeadLetter}, {@link selectDeadLetters}, {@link checkDeadLetterFilter},
 *   {@link unsupportedDeadLetters} for a transport whose broker keeps them itself.
 * - Job backends: the record types a `JobBackend` implementation exchanges with the queue.
 *
 * @module
 */
export { serializeError } from '../bus/attempt';
export type {
  AddOutcome,
  ClaimedJob,
  ClaimRequest,
  JobFailure,
  JobFailureOutcome,
  JobLease,
  JobUniqueness,
  LeaseRef,
  NewJob,
  PriorityPolicy,
} from '../jobs/backend';
export type {
  ResolvedGroupDeclaration,
  ResolvedTransportSubscribeOptions,
} from '../transport/subscribe-options';
export {
  checkGroupName,
  resolveGroupDeclaration,
  resolveTransportSubscribeOptions,
} from '../transport/subscribe-options';
export { compilePattern } from '../transport/topic-pattern';
export type { CloserOptions } from './closer';
export { Closer } from './closer';
export { connectionError, isUnreachable } from './connection-error';
export type { DeadLetterFields } from './dead-letters';
export {
  checkDeadLetterFilter,
  createDeadLetter,
  matchesDeadLetterFilter,
  selectDeadLetters,
  unsupportedDeadLetters,
} from './dead-letters';
export type { DeliveryStateValue } from './delivery';
export { checkNackDelay, DeliveryState, KitDelivery } from './delivery';
export { Fifo } from './fifo';
export { invokeHandler } from './invoke-handler';
export { KeyLocks } from './key-locks';
export type { DispatchLimits, DispatchTarget } from './keyed-dispatcher';
export { KeyedDispatcher } from './keyed-dispatcher';
export { checkPublishBatch } from './publish-batch';
export type { SubscriptionHandleOptions } from './subscription-handle';
export { SubscriptionHandle } from './subscription-handle';

export type { PostgresCheckpointStoreOptions } from './checkpoint-store';
export { postgresCheckpointStore } from './checkpoint-store';
export {
  PermissionDeniedError,
  RestoredLogError,
  SchemaVersionError,
  StreamOrderConflictError,
  TransactionRequiredError,
  UnknownJobQueueError,
} from './errors';
export type { Inbox, InboxOptions, InboxOutcome } from './inbox';
export { createInbox } from './inbox';
export { onLocalCommit } from './local-commits';
export type { MigrateResult } from './migrations';
export { migrate, SCHEMA_VERSION } from './migrations';
export type { MigrateOptions, PostgresAppendOptions, PostgresEventStoreOptions } from './options';
export type { PostgresEventStore } from './postgres-store';
export { postgresEventStore } from './postgres-store';
export type { PruneEventsOptions } from './prune-events';
export { pruneEvents } from './prune-events';
export type { OutboxRelay } from './relay/outbox-relay';
export { createOutboxRelay } from './relay/outbox-relay';
export type {
  ParkedEvent,
  ParkedEventFilter,
  ParkedEventListOptions,
  ParkedEvents,
} from './relay/parked-events';
export type { RelayMetricsOptions } from './relay/relay-metrics';
export type { OutboxRelayOptions } from './relay/relay-options';
export { defaultIsPoison } from './relay/relay-options';
export type { OldestTransaction, OutboxRelayStats, PartitionLag } from './relay/relay-stats';
export type { PostgresSnapshotStoreOptions } from './snapshot-store';
export { postgresSnapshotStore } from './snapshot-store';
export type { Queryable } from './sql/query';

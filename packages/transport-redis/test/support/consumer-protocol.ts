import type { ClientFlavour, Connection } from './client';

/** What the consumer process connects to and how it subscribes. Passed as JSON in its environment. */
export interface ConsumerConfig {
  /** A standalone server URL, or the nodes of a cluster. */
  readonly connection: Connection;
  /** The ioredis major (and reply options) to connect with; ioredis 5 when absent. */
  readonly flavour?: ClientFlavour;
  /** The transport's key prefix. */
  readonly prefix: string;
  readonly topics: ReadonlyArray<string>;
  readonly group?: string;
  readonly concurrency: number;
  readonly visibilityTimeoutMs: number;
  /** Extra `redisTransport` options (JSON-safe), merged over `{ redis, prefix }`. */
  readonly transportOptions?: Readonly<Record<string, unknown>>;
}

/** Parent to consumer. */
export type ConsumerCommand =
  /** Stop acking: from now on every delivery is reported and then held unsettled. */
  | { readonly type: 'hold' }
  /** Close the subscription and the transport, then exit. */
  | { readonly type: 'close' };

/** Consumer to parent. Reports are sent in the order things happened. */
export type ConsumerReport =
  | { readonly type: 'ready'; readonly pid: number }
  /** A delivery reached the handler. */
  | { readonly type: 'received'; readonly id: string; readonly attempt: number; readonly held: boolean }
  /** `ack()` of this message resolved. */
  | { readonly type: 'acked'; readonly id: string }
  /** Hold mode is on and every ack started before it has resolved and been reported. */
  | { readonly type: 'holding' }
  | { readonly type: 'error'; readonly message: string }
  | { readonly type: 'closed' };

/** Environment variable carrying the {@link ConsumerConfig}. */
export const CONSUMER_CONFIG_ENV = 'RELAYBUS_CONSUMER_CONFIG';

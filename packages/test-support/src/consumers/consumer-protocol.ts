/** How a consumer process (see {@link startConsumerProcess}) subscribes. */
export interface ConsumerSubscription {
  readonly topics: ReadonlyArray<string>;
  readonly group?: string;
  readonly concurrency: number;
  readonly visibilityTimeoutMs: number;
}

/**
 * What a consumer process makes and how it subscribes. Passed as JSON in its environment, so every field must be
 * JSON-safe.
 *
 * @typeParam TTransport - What the package's transport factory needs (a URL, a prefix, transport options), handed
 * to the factory given to {@link serveConsumer} as it is.
 * @example
 * ```ts
 * const config: ConsumerConfig<{ servers: string; prefix: string }> = {
 *   transport: { servers: NATS_URL, prefix },
 *   topics: ['job.created'],
 *   group: 'workers',
 *   concurrency: 8,
 *   visibilityTimeoutMs: 30_000,
 * };
 * ```
 */
export interface ConsumerConfig<TTransport> extends ConsumerSubscription {
  /** Handed to the package's transport factory. */
  readonly transport: TTransport;
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

import type { AnyEventDefinition } from '../events/define-event';
import type { Envelope } from '../events/envelope';
import type { Logger } from '../logger';
import type { ExpectedVersion } from '../store/event-store';

/**
 * What a middleware sees when an event is published. Replace `envelope` to change what is sent.
 *
 * @example
 * ```ts
 * const stamp: Middleware = {
 *   name: 'stamp',
 *   publish: (ctx, next) => {
 *     ctx.envelope = { ...ctx.envelope, metadata: { ...ctx.envelope.metadata, host: 'api-1' } };
 *     return next();
 *   },
 * };
 * ```
 */
export interface PublishContext {
  /** The validated event about to be sent. Assign a new envelope to change it. */
  envelope: Envelope;
  /** Its definition. */
  readonly definition: AnyEventDefinition;
  /** Delay requested by the publisher, in milliseconds. */
  readonly delayMs: number | undefined;
  /** With an event store: the optimistic concurrency check requested by the publisher. */
  readonly expectedVersion: ExpectedVersion | undefined;
  /** The caller's database transaction the event is appended in (`publish(..., { transaction })`), if any. */
  readonly transaction: unknown;
  /** The bus's logger. */
  readonly logger: Logger;
}

/**
 * What a middleware sees when an event is consumed by a subscription.
 *
 * @example
 * ```ts
 * const audit: Middleware = {
 *   name: 'audit',
 *   consume: async (ctx, next) => {
 *     await next();
 *     ctx.logger.info('handled', { id: ctx.envelope.id, group: ctx.group });
 *   },
 * };
 * ```
 */
export interface ConsumeContext {
  /** The decoded, upcast and validated event. Assign a new envelope to change what the handler gets. */
  envelope: Envelope;
  /** Its definition. */
  readonly definition: AnyEventDefinition;
  /** 1 for the first delivery, then incremented on each redelivery. */
  readonly attempt: number;
  /** Consumer group of the subscription, if any. */
  readonly group: string | undefined;
  /** Name of the subscription (its group, or a generated name). */
  readonly subscription: string;
  /** The handler's signal: aborted on timeout, lost lease or shutdown. */
  readonly signal: AbortSignal;
  /** Aborts `signal` with `reason` (used by timeouts). */
  abort(reason: Error): void;
  /** The bus's logger. */
  readonly logger: Logger;
}

/**
 * Runs around publishing and/or consuming, in onion order: the first added is the outermost. Call `next()` to
 * continue; not calling it stops the event there (on consume, the event counts as handled).
 *
 * @example
 * ```ts
 * bus.use({
 *   name: 'timing',
 *   consume: async (ctx, next) => {
 *     const start = performance.now();
 *     try { await next(); } finally { ctx.logger.debug('took', { ms: performance.now() - start }); }
 *   },
 * });
 * ```
 */
export interface Middleware {
  /** Shown in logs and errors. */
  readonly name: string;
  /** Wraps publishing: validation already happened; `next()` stores and sends the event. */
  publish?(ctx: PublishContext, next: () => Promise<void>): Promise<void>;
  /** Wraps consuming: decoding and validation already happened; `next()` runs the handler. */
  consume?(ctx: ConsumeContext, next: () => Promise<void>): Promise<void>;
}

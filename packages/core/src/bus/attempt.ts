import { HandlerTimeoutError, NonRetryableError, toError, ValidationError } from '../errors';
import type { AnyEventDefinition } from '../events/define-event';
import type { Envelope } from '../events/envelope';
import type { Logger } from '../logger';
import type { ConsumeContext } from '../middleware/middleware';
import type { DeadLetterReason, Delivery, SerializedError } from '../transport/transport';
import type { RetryPolicy } from './retry';
import type { HandlerContext, PublishOptions } from './types';

/** What an attempt needs from the subscription that runs it. */
export interface AttemptHost {
  readonly name: string;
  readonly group: string | undefined;
  readonly logger: Logger;
  readonly retry: RetryPolicy;
  readonly timeoutMs: number;
  readonly handler: (event: Envelope, ctx: Attempt) => unknown;
  run(attempt: Attempt): unknown;
  track(attempt: Attempt): void;
  untrack(attempt: Attempt): void;
  publish(definition: AnyEventDefinition, data: unknown, options: PublishOptions): Promise<Envelope>;
}

/**
 * One handling of one delivery: the context given to middleware and to the handler, and the logic that settles
 * the delivery (ack, nack with backoff, or dead letter) exactly once.
 */
export class Attempt implements ConsumeContext, HandlerContext {
  startedAt = 0;
  /** Index in the subscription's in-flight list; -1 when not tracked. */
  slot = -1;
  private settled = false;
  private controller: AbortController | undefined;

  constructor(
    private readonly host: AttemptHost,
    private readonly delivery: Delivery,
    public envelope: Envelope,
    readonly definition: AnyEventDefinition,
  ) {}

  get attempt(): number {
    return this.delivery.attempt;
  }

  get group(): string | undefined {
    return this.host.group;
  }

  get subscription(): string {
    return this.host.name;
  }

  get logger(): Logger {
    return this.host.logger;
  }

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      const controller = new AbortController();
      this.controller = controller;
      const leased = this.delivery.signal;
      if (leased.aborted) controller.abort(leased.reason);
      else leased.addEventListener('abort', () => controller.abort(leased.reason), { once: true });
    }
    return this.controller.signal;
  }

  abort(reason: Error): void {
    if (this.controller === undefined) this.controller = new AbortController();
    this.controller.abort(reason);
  }

  publish(definition: AnyEventDefinition, data: unknown, options: PublishOptions = {}): Promise<never> {
    const cause = this.envelope;
    return this.host.publish(definition, data, {
      correlationId: cause.correlationId ?? cause.id,
      ...options,
      causationId: cause.id,
    }) as Promise<never>;
  }

  /** Calls the user's handler with the (possibly middleware-replaced) envelope. */
  invokeHandler(): unknown {
    return this.host.handler(this.envelope, this);
  }

  /** Runs the handler (through the middleware) and settles the delivery with the outcome. */
  start(): void {
    let result: unknown;
    try {
      result = this.host.run(this);
    } catch (error) {
      this.fail(error);
      return;
    }
    if (result instanceof Promise) {
      this.startedAt = Date.now();
      this.host.track(this);
      result.then(
        () => this.succeed(),
        (error: unknown) => this.fail(error),
      );
    } else {
      this.succeed();
    }
  }

  /** Called by the subscription's shared timer once `timeoutMs` has passed. */
  expire(): void {
    const error = new HandlerTimeoutError(this.envelope.type, this.host.timeoutMs);
    this.abort(error);
    this.fail(error);
  }

  /** Leaves the delivery unsettled (for redelivery) because the subscription is shutting down. */
  abandon(reason: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.host.untrack(this);
    this.abort(reason);
  }

  private succeed(): void {
    if (this.settled) return;
    this.settled = true;
    this.host.untrack(this);
    this.watch(this.delivery.ack(), 'ack');
  }

  private fail(thrown: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.host.untrack(this);
    const error = toError(thrown, this.envelope.type);
    const { attempt } = this.delivery;
    const fields = { id: this.envelope.id, type: this.envelope.type, group: this.host.group, attempt, error };
    if (error instanceof NonRetryableError || error instanceof ValidationError) {
      this.host.logger.error('handler failed permanently; dead-lettering the event', fields);
      this.watch(
        this.delivery.deadLetter({ reason: 'NON_RETRYABLE', error: serializeError(error) }),
        'dead-letter',
      );
      return;
    }
    if (attempt >= this.host.retry.attempts) {
      this.host.logger.error(
        `handler failed on the last of ${attempt} attempts; dead-lettering the event`,
        fields,
      );
      this.watch(
        this.delivery.deadLetter({ reason: 'MAX_ATTEMPTS', error: serializeError(error) }),
        'dead-letter',
      );
      return;
    }
    const hinted = (error as { retryAfterMs?: unknown }).retryAfterMs;
    const delayMs =
      typeof hinted === 'number' && Number.isFinite(hinted) && hinted >= 0
        ? hinted
        : this.host.retry.delayMs(attempt, error);
    this.host.logger.warn(`handler failed; retrying in ${Math.round(delayMs)} ms`, fields);
    this.watch(this.delivery.nack({ delayMs }), 'nack');
  }

  private watch(result: void | Promise<void>, action: string): void {
    if (result instanceof Promise) {
      result.catch((error: unknown) =>
        this.host.logger.error(`could not ${action} a delivery; the transport will redeliver it`, {
          id: this.envelope.id,
          error,
        }),
      );
    }
  }
}

/** Dead-letters a delivery that never reached a handler (undecodable, unknown type, invalid data). */
export function rejectDelivery(
  delivery: Delivery,
  reason: DeadLetterReason,
  error: Error,
  logger: Logger,
  group: string | undefined,
): void {
  logger.warn(`dead-lettering a message that cannot be handled (${reason})`, {
    id: delivery.message.id,
    topic: delivery.message.topic,
    group,
    error,
  });
  const result = delivery.deadLetter({ reason, error: serializeError(error) });
  if (result instanceof Promise) {
    result.catch((cause: unknown) =>
      logger.error('could not dead-letter a delivery', { id: delivery.message.id, cause }),
    );
  }
}

/**
 * Turns an error into plain data that survives serialisation (for dead letters).
 *
 * @example
 * ```ts
 * serializeError(new TypeError('bad')); // { name: 'TypeError', message: 'bad', stack: '...' }
 * ```
 */
export function serializeError(error: Error): SerializedError {
  const code = (error as { code?: unknown }).code;
  return {
    name: error.name,
    message: error.message,
    ...(typeof code === 'string' ? { code } : {}),
    ...(error.stack === undefined ? {} : { stack: error.stack }),
  };
}

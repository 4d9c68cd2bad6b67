import { InvalidOptionError, toError } from '../errors';
import type { Envelope } from '../events/envelope';
import type { Middleware } from './middleware';

/**
 * An OpenTelemetry context, opaque to relaybus.
 *
 * @example
 * ```ts
 * const active: OtelContextLike = api.context.active();
 * ```
 */
export interface OtelContextLike {
  /** Reads a value stored under `key`. */
  getValue(key: symbol): unknown;
}

/**
 * The part of an OpenTelemetry `Span` the tracing middleware uses.
 *
 * @example
 * ```ts
 * const span: OtelSpanLike = tracer.startSpan('work');
 * span.end();
 * ```
 */
export interface OtelSpanLike {
  /** Sets one attribute. */
  setAttribute(key: string, value: string | number | boolean): unknown;
  /** Sets the span's status (`code` 2 is error). */
  setStatus(status: { code: number; message?: string }): unknown;
  /** Records an exception event. */
  recordException(exception: Error): void;
  /** Ends the span. */
  end(): void;
}

/**
 * The part of an OpenTelemetry `Tracer` the tracing middleware uses.
 *
 * @example
 * ```ts
 * const tracer: OtelTracerLike = api.trace.getTracer('relaybus');
 * ```
 */
export interface OtelTracerLike {
  /** Starts a span, as a child of the span in `context` when there is one. */
  startSpan(
    name: string,
    options?: { kind?: number; attributes?: Record<string, string | number | boolean> },
    context?: OtelContextLike,
  ): OtelSpanLike;
}

/**
 * The part of the `@opentelemetry/api` module the tracing middleware uses. Declared here so that core does not
 * depend on it at runtime: pass the module itself (`import * as api from '@opentelemetry/api'`).
 *
 * @example
 * ```ts
 * import * as api from '@opentelemetry/api';
 * const otel: OtelApiLike = api;
 * ```
 */
export interface OtelApiLike {
  /** `api.trace`. */
  readonly trace: {
    getTracer(name: string, version?: string): OtelTracerLike;
    setSpan(context: OtelContextLike, span: OtelSpanLike): OtelContextLike;
  };
  /** `api.context`. */
  readonly context: {
    active(): OtelContextLike;
    with<T>(context: OtelContextLike, fn: () => T): T;
  };
  /** `api.propagation`, used with the default text-map getter and setter. */
  readonly propagation: {
    inject(context: OtelContextLike, carrier: Record<string, string>): void;
    extract(context: OtelContextLike, carrier: Record<string, string>): OtelContextLike;
  };
}

/**
 * Options for {@link tracing}.
 *
 * @example
 * ```ts
 * import * as api from '@opentelemetry/api';
 * bus.use(tracing({ api, tracerName: 'task-api' }));
 * ```
 */
export interface TracingOptions {
  /** The `@opentelemetry/api` module (or anything shaped like the parts in {@link OtelApiLike}). */
  api: OtelApiLike;
  /**
   * Name of the tracer the spans come from.
   * @defaultValue '@relaybus/core'
   */
  tracerName?: string;
}

const WHERE = 'tracing()';
// Numeric values of SpanKind and SpanStatusCode in @opentelemetry/api, fixed by the specification.
const SPAN_KIND_PRODUCER = 3;
const SPAN_KIND_CONSUMER = 4;
const SPAN_STATUS_ERROR = 2;

/**
 * Traces publishing and handling with OpenTelemetry, carrying the W3C `traceparent` in the envelope so that
 * handling, in any process, continues the publisher's trace. Publishing opens a PRODUCER span `<type> publish`
 * (a child of the envelope's own `traceparent` if it already has one, as when an outbox relay forwards a stored
 * event, else of the active span) and stamps its context into `envelope.traceparent`. Handling opens a CONSUMER
 * span `<type> process`, a child of that `traceparent`, and runs the rest of the chain inside it, so events the
 * handler publishes join the same trace. Spans carry the messaging semantic-convention attributes; a failure is
 * recorded as an exception with error status, and rethrown unchanged.
 *
 * Without an OpenTelemetry SDK (and a W3C propagator) registered, the API is a no-op and envelopes are unchanged.
 *
 * @throws {@link InvalidOptionError} when `api` lacks `trace`, `context` or `propagation`.
 * @example
 * ```ts
 * import * as api from '@opentelemetry/api';
 * bus.use(tracing({ api }));
 * ```
 */
export function tracing(options: TracingOptions): Middleware {
  const api = options?.api;
  if (typeof api !== 'object' || api === null || !api.trace || !api.context || !api.propagation) {
    throw new InvalidOptionError(
      WHERE,
      'api',
      "must be the @opentelemetry/api module (import * as api from '@opentelemetry/api')",
    );
  }
  const tracerName = options.tracerName ?? '@relaybus/core';
  if (typeof tracerName !== 'string' || tracerName === '') {
    throw new InvalidOptionError(WHERE, 'tracerName', 'must be a non-empty string');
  }
  let cached: OtelTracerLike | undefined;
  // Resolved lazily so that a tracer provider registered after the middleware is still picked up.
  const tracer = (): OtelTracerLike => {
    cached ??= api.trace.getTracer(tracerName);
    return cached;
  };

  const parentOf = (envelope: Envelope): OtelContextLike => {
    const active = api.context.active();
    const { traceparent } = envelope;
    return traceparent === undefined ? active : api.propagation.extract(active, { traceparent });
  };

  return {
    name: 'tracing',
    async publish(ctx, next) {
      const { envelope } = ctx;
      const attributes = baseAttributes(envelope, 'send', 'publish');
      const parent = parentOf(envelope);
      const span = tracer().startSpan(
        `${envelope.type} publish`,
        { kind: SPAN_KIND_PRODUCER, attributes },
        parent,
      );
      const spanContext = api.trace.setSpan(parent, span);
      const carrier: Record<string, string> = {};
      api.propagation.inject(spanContext, carrier);
      const traceparent = carrier['traceparent'];
      if (traceparent !== undefined) ctx.envelope = { ...envelope, traceparent };
      await runInSpan(api, span, spanContext, next, envelope.type);
    },
    async consume(ctx, next) {
      const { envelope } = ctx;
      const attributes = baseAttributes(envelope, 'process', 'process');
      attributes['messaging.destination.subscription.name'] = ctx.subscription;
      if (ctx.group !== undefined) attributes['messaging.consumer.group.name'] = ctx.group;
      attributes['relaybus.attempt'] = ctx.attempt;
      const parent = parentOf(envelope);
      const span = tracer().startSpan(
        `${envelope.type} process`,
        { kind: SPAN_KIND_CONSUMER, attributes },
        parent,
      );
      await runInSpan(api, span, api.trace.setSpan(parent, span), next, envelope.type);
    },
  };
}

function baseAttributes(
  envelope: Envelope,
  operationType: string,
  operationName: string,
): Record<string, string | number | boolean> {
  const attributes: Record<string, string | number | boolean> = {
    'messaging.system': 'relaybus',
    'messaging.destination.name': envelope.type,
    'messaging.operation.type': operationType,
    'messaging.operation.name': operationName,
    'messaging.message.id': envelope.id,
  };
  if (envelope.correlationId !== undefined)
    attributes['messaging.message.conversation_id'] = envelope.correlationId;
  if (envelope.key !== undefined) attributes['relaybus.key'] = envelope.key;
  return attributes;
}

async function runInSpan(
  api: OtelApiLike,
  span: OtelSpanLike,
  context: OtelContextLike,
  next: () => Promise<void>,
  eventType: string,
): Promise<void> {
  try {
    await api.context.with(context, next);
  } catch (thrown) {
    const error = toError(thrown, eventType);
    span.recordException(error);
    span.setStatus({ code: SPAN_STATUS_ERROR, message: error.message });
    throw thrown;
  } finally {
    span.end();
  }
}

import { AsyncLocalStorage } from 'node:async_hooks';
import * as realApi from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import {
  consumeContext,
  countingNext,
  publishContext,
  testEnvelope,
} from '../../test/fixtures/middleware-context';
import { InvalidOptionError } from '../errors';
import type { OtelApiLike, OtelContextLike, OtelSpanLike } from './tracing';
import { tracing } from './tracing';

interface FakeSpan extends OtelSpanLike {
  readonly name: string;
  readonly kind: number | undefined;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly attributes: Record<string, string | number | boolean>;
  readonly exceptions: Error[];
  status: { code: number; message?: string } | undefined;
  ended: boolean;
}

const SPAN = Symbol('span');

/** A context: an immutable map, as in OpenTelemetry. */
class FakeContext implements OtelContextLike {
  constructor(private readonly values: ReadonlyMap<symbol, unknown> = new Map()) {}
  getValue(key: symbol): unknown {
    return this.values.get(key);
  }
  with(key: symbol, value: unknown): FakeContext {
    return new FakeContext(new Map([...this.values, [key, value]]));
  }
}

/** An in-memory stand-in for @opentelemetry/api with an SDK and the W3C propagator registered. */
function fakeOtel(): OtelApiLike & { readonly spans: FakeSpan[]; readonly tracerNames: string[] } {
  const spans: FakeSpan[] = [];
  const tracerNames: string[] = [];
  const storage = new AsyncLocalStorage<OtelContextLike>();
  const root = new FakeContext();
  let ids = 0;
  const hex = (length: number) => (++ids).toString(16).padStart(length, '0');
  const spanOf = (context: OtelContextLike) =>
    context.getValue(SPAN) as { traceId: string; spanId: string } | undefined;
  return {
    spans,
    tracerNames,
    trace: {
      getTracer(name) {
        tracerNames.push(name);
        return {
          startSpan(name, options, context = storage.getStore() ?? root) {
            const parent = spanOf(context);
            const span: FakeSpan = {
              name,
              kind: options?.kind,
              traceId: parent?.traceId ?? hex(32),
              spanId: hex(16),
              parentSpanId: parent?.spanId,
              attributes: { ...options?.attributes },
              exceptions: [],
              status: undefined,
              ended: false,
              setAttribute(key, value) {
                span.attributes[key] = value;
              },
              setStatus(status) {
                span.status = status;
              },
              recordException(exception) {
                span.exceptions.push(exception);
              },
              end() {
                span.ended = true;
              },
            };
            spans.push(span);
            return span;
          },
        };
      },
      setSpan: (context, span) => (context as FakeContext).with(SPAN, span),
    },
    context: {
      active: () => storage.getStore() ?? root,
      with: (context, fn) => storage.run(context, fn),
    },
    propagation: {
      inject(context, carrier) {
        const span = spanOf(context);
        if (span !== undefined) carrier['traceparent'] = `00-${span.traceId}-${span.spanId}-01`;
      },
      extract(context, carrier) {
        const match = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/.exec(carrier['traceparent'] ?? '');
        if (match === null) return context;
        return (context as FakeContext).with(SPAN, { traceId: match[1], spanId: match[2] });
      },
    },
  };
}

describe('tracing()', () => {
  it('opens a PRODUCER span with messaging attributes and stamps its traceparent into the envelope', async () => {
    const otel = fakeOtel();
    const ctx = publishContext({ envelope: testEnvelope({ correlationId: 'req-1' }) });
    const original = ctx.envelope;
    let endedDuringSend: boolean | undefined;
    await tracing({ api: otel }).publish?.(ctx, async () => {
      endedDuringSend = otel.spans[0]?.ended;
    });
    const [span] = otel.spans;
    expect(span).toMatchObject({
      name: 'test.happened publish',
      kind: 3,
      ended: true,
      status: undefined,
      attributes: {
        'messaging.system': 'relaybus',
        'messaging.destination.name': 'test.happened',
        'messaging.operation.type': 'send',
        'messaging.message.id': original.id,
        'messaging.message.conversation_id': 'req-1',
      },
    });
    expect(endedDuringSend).toBe(false);
    expect(ctx.envelope).toEqual({ ...original, traceparent: `00-${span?.traceId}-${span?.spanId}-01` });
    expect(otel.tracerNames).toEqual(['@relaybus/core']);
  });

  it('continues the trace on consume: a CONSUMER child span that is active while the handler runs', async () => {
    const otel = fakeOtel();
    const mw = tracing({ api: otel, tracerName: 'tasks' });
    const published = publishContext();
    await mw.publish?.(published, countingNext());
    const consumed = consumeContext({
      envelope: published.envelope,
      attempt: 2,
      group: 'mailer',
      subscription: 'mailer',
    });
    let nested: string | undefined;
    await mw.consume?.(consumed, async () => {
      // A publish from inside the handler joins the same trace, as a child of the consumer span.
      const inner = publishContext();
      await mw.publish?.(inner, countingNext());
      nested = inner.envelope.traceparent;
    });
    const [producer, consumer, innerProducer] = otel.spans;
    expect(consumer).toMatchObject({
      name: 'test.happened process',
      kind: 4,
      traceId: producer?.traceId,
      parentSpanId: producer?.spanId,
      ended: true,
      attributes: {
        'messaging.operation.type': 'process',
        'messaging.consumer.group.name': 'mailer',
        'messaging.destination.subscription.name': 'mailer',
        'relaybus.attempt': 2,
      },
    });
    expect(innerProducer).toMatchObject({ traceId: producer?.traceId, parentSpanId: consumer?.spanId });
    expect(nested).toBe(`00-${producer?.traceId}-${innerProducer?.spanId}-01`);
    expect(otel.tracerNames).toEqual(['tasks']);
  });

  it('parents a publish on a traceparent the envelope already carries (an outbox relay forwarding an event)', async () => {
    const otel = fakeOtel();
    const stored = `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`;
    await tracing({ api: otel }).publish?.(
      publishContext({ envelope: testEnvelope({ traceparent: stored }) }),
      countingNext(),
    );
    expect(otel.spans[0]).toMatchObject({ traceId: 'a'.repeat(32), parentSpanId: 'b'.repeat(16) });
  });

  it('records a failure as an exception with error status, ends the span and rethrows', async () => {
    const otel = fakeOtel();
    const boom = new Error('boom');
    await expect(tracing({ api: otel }).consume?.(consumeContext(), () => Promise.reject(boom))).rejects.toBe(
      boom,
    );
    expect(otel.spans[0]).toMatchObject({
      ended: true,
      exceptions: [boom],
      status: { code: 2, message: 'boom' },
    });
  });

  it('starts a new trace for an event without traceparent', async () => {
    const otel = fakeOtel();
    await tracing({ api: otel }).consume?.(consumeContext(), countingNext());
    expect(otel.spans[0]).toMatchObject({ parentSpanId: undefined, ended: true });
  });

  it('works with the real @opentelemetry/api without an SDK: a no-op that leaves the envelope alone', async () => {
    const mw = tracing({ api: realApi });
    const ctx = publishContext();
    const original = ctx.envelope;
    const next = countingNext();
    await mw.publish?.(ctx, next);
    await mw.consume?.(
      consumeContext({
        envelope: testEnvelope({ traceparent: `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01` }),
      }),
      next,
    );
    expect(next.calls()).toBe(2);
    expect(ctx.envelope).toBe(original);
  });

  it('rejects a missing api', () => {
    expect(() => tracing({ api: {} as OtelApiLike })).toThrow(InvalidOptionError);
    expect(() => tracing(undefined as never)).toThrow(/@opentelemetry\/api/);
  });
});

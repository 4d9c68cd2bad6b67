import { ClosedError, InvalidOptionError } from '../errors';
import { type AnyEventDefinition, buildEnvelope, validate } from '../events/define-event';
import type { Envelope } from '../events/envelope';
import { consoleLogger } from '../logger';
import { compose } from '../middleware/compose';
import type { ConsumeContext, Middleware, PublishContext } from '../middleware/middleware';
import { memoryTransport } from '../transport/memory-transport';
import type { TransportMessage } from '../transport/transport';
import type { Attempt } from './attempt';
import { Catalog } from './catalog';
import { resolveRetry } from './retry';
import { SubscriptionRunner } from './subscription-runner';
import type { EventBus, EventBusOptions, PublishOptions, SubscribeOptions, Subscription } from './types';

const DEFAULT_TIMEOUT_MS = 30_000;
const LEASE_MARGIN_MS = 5_000;
const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;
const RESOLVED = Promise.resolve();

/**
 * Creates an event bus over a catalog of event definitions.
 *
 * @throws {@link InvalidOptionError} when the catalog or defaults are malformed.
 * @example
 * ```ts
 * import { createEventBus, defineEvent } from '@relaybus/core';
 * import { z } from 'zod';
 *
 * const TaskCreated = defineEvent('task.created', z.object({ taskId: z.string(), title: z.string() }));
 * const bus = createEventBus({ events: [TaskCreated], source: 'task-api' });
 *
 * bus.subscribe(TaskCreated, async (event, ctx) => {
 *   ctx.logger.info(`created ${event.data.title}`);
 * }, { group: 'indexer' });
 *
 * await bus.publish(TaskCreated, { taskId: 't1', title: 'Write docs' });
 * ```
 */
export function createEventBus<const TEvents extends ReadonlyArray<AnyEventDefinition>>(
  options: EventBusOptions<TEvents>,
): EventBus<TEvents[number]> {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError('createEventBus', 'options', 'must be an object with at least { events }');
  }
  const catalog = new Catalog(options.events);
  const transport = options.transport ?? memoryTransport();
  const logger = options.logger ?? consoleLogger;
  const source = options.source ?? 'relaybus';
  const validateOnPublish = options.validate?.publish ?? true;
  const validateOnConsume = options.validate?.consume ?? true;
  const defaults = options.defaults ?? {};
  resolveSubscribeOptions('createEventBus', 'defaults.', defaults);

  const middleware: Middleware[] = [];
  const runners = new Set<SubscriptionRunner>();
  let closed = false;
  let closing: Promise<void> | undefined;
  let subscriptionCount = 0;

  const { store } = options;
  const streamOf = options.streamOf ?? ((event: Envelope) => event.subject ?? event.type);
  const deliver = async (ctx: PublishContext): Promise<void> => {
    if (store !== undefined) {
      const expectedVersion = ctx.expectedVersion ?? 'any';
      const appended = await store.append(streamOf(ctx.envelope), [ctx.envelope], { expectedVersion });
      ctx.envelope = appended.events[0] as Envelope;
    }
    await transport.publish([toMessage(ctx.envelope, ctx.delayMs)]);
  };
  let publishChain = compose<PublishContext>([], deliver);
  let consumeChain: ((ctx: ConsumeContext) => Promise<void>) | undefined;

  /** Not `async`: the common path returns the transport's promise chained once, which is measurably cheaper. */
  function publish(
    definition: AnyEventDefinition,
    data: unknown,
    options: PublishOptions = {},
  ): Promise<Envelope> {
    try {
      const type =
        typeof definition === 'object' && definition !== null ? definition.type : String(definition);
      if (closed) throw new ClosedError('the event bus', `publish "${type}"`);
      const known = catalog.require(definition, 'in publish()');
      checkDelay(type, options.delayMs);
      const value = validateOnPublish ? validate(type, known.schema, data) : data;
      if (value instanceof Promise) return value.then((valid) => send(known, valid, options));
      return send(known, value, options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  function send(known: AnyEventDefinition, value: unknown, options: PublishOptions): Promise<Envelope> {
    const key = options.key ?? known.keyOf(value);
    const envelope = buildEnvelope(known.type, known.version, value, key, options, source);
    if (publishChain === undefined && store === undefined) {
      return transport.publish([toMessage(envelope, options.delayMs)]).then(() => envelope);
    }
    const ctx: PublishContext = {
      envelope,
      definition: known,
      delayMs: options.delayMs,
      expectedVersion: options.expectedVersion,
      logger,
    };
    return (publishChain ?? deliver)(ctx).then(() => ctx.envelope);
  }

  function checkDelay(type: string, delayMs: number | undefined): void {
    if (delayMs === undefined) return;
    if (!Number.isFinite(delayMs) || delayMs < 0) {
      throw new InvalidOptionError(
        `publish("${type}")`,
        'delayMs',
        `must be a finite number >= 0, got ${delayMs}`,
      );
    }
    if (delayMs > 0 && !transport.capabilities.delay) {
      throw new InvalidOptionError(
        `publish("${type}")`,
        'delayMs',
        `is not supported by the ${transport.name} transport`,
      );
    }
  }

  function subscribe(
    target: unknown,
    handler: unknown,
    subscribeOptions: SubscribeOptions = {},
  ): Subscription {
    if (closed) throw new ClosedError('the event bus', 'subscribe');
    if (typeof handler !== 'function') {
      throw new InvalidOptionError('subscribe', 'handler', `must be a function, got ${typeof handler}`);
    }
    const resolvedTarget = catalog.resolve(target);
    const merged: SubscribeOptions = { ...defaults, ...subscribeOptions };
    const where = `subscribe(${resolvedTarget.description})`;
    const resolved = resolveSubscribeOptions(where, '', merged);
    subscriptionCount += 1;
    const name = merged.group ?? `subscriber-${subscriptionCount}`;
    const runner = new SubscriptionRunner({
      name,
      group: merged.group,
      target: resolvedTarget,
      ...resolved,
      retry: resolveRetry(where, merged.retry),
      catalog,
      logger,
      validateOnConsume,
      transport,
      signal: merged.signal,
      handler: handler as (event: Envelope, ctx: Attempt) => unknown,
      run: (attempt) => (consumeChain === undefined ? attempt.invokeHandler() : consumeChain(attempt)),
      publish,
    });
    runners.add(runner);
    runner.ready.catch((error: unknown) => {
      runners.delete(runner);
      logger.error(`${where} could not start`, { error });
    });
    const close = async (closeOptions: { timeoutMs?: number } = {}): Promise<void> => {
      await runner.close(closeOptions.timeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS);
      runners.delete(runner);
    };
    return { group: merged.group, ready: runner.ready, close, [Symbol.asyncDispose]: () => close() };
  }

  function rebuildChains(): void {
    publishChain = compose(
      middleware.flatMap((mw) => (mw.publish === undefined ? [] : [mw.publish.bind(mw)])),
      deliver,
    );
    consumeChain = compose(
      middleware.flatMap((mw) => (mw.consume === undefined ? [] : [mw.consume.bind(mw)])),
      (ctx) => {
        const result = (ctx as Attempt).invokeHandler();
        return result instanceof Promise ? result : RESOLVED;
      },
    );
  }

  const bus = {
    transport,
    store,
    deadLetters: transport.deadLetters,
    publish,
    subscribe,
    use(mw: Middleware) {
      if (mw === null || typeof mw !== 'object' || typeof mw.name !== 'string') {
        throw new InvalidOptionError(
          'use',
          'middleware',
          'must be an object with a name and publish/consume functions',
        );
      }
      middleware.push(mw);
      rebuildChains();
      return bus;
    },
    close(closeOptions: { timeoutMs?: number } = {}): Promise<void> {
      closed = true;
      closing ??= (async () => {
        const timeoutMs = closeOptions.timeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS;
        const deadline = Date.now() + timeoutMs;
        await Promise.allSettled([...runners].map((runner) => runner.close(timeoutMs)));
        runners.clear();
        await transport.close({ timeoutMs: Math.max(0, deadline - Date.now()) });
      })();
      return closing;
    },
    [Symbol.asyncDispose]() {
      return bus.close();
    },
  };
  return bus as unknown as EventBus<TEvents[number]>;
}

function toMessage(envelope: Envelope, delayMs: number | undefined): TransportMessage {
  const message: { -readonly [K in keyof TransportMessage]: TransportMessage[K] } = {
    id: envelope.id,
    topic: envelope.type,
    body: envelope,
  };
  if (envelope.key !== undefined) message.key = envelope.key;
  if (delayMs !== undefined && delayMs > 0) message.delayMs = delayMs;
  return message;
}

interface ResolvedSubscribeOptions {
  concurrency: number;
  timeoutMs: number;
  visibilityTimeoutMs: number;
}

function resolveSubscribeOptions(
  where: string,
  prefix: string,
  options: SubscribeOptions,
): ResolvedSubscribeOptions {
  const concurrency = options.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new InvalidOptionError(
      where,
      `${prefix}concurrency`,
      `must be an integer >= 1, got ${String(concurrency)}`,
    );
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new InvalidOptionError(
      where,
      `${prefix}timeoutMs`,
      `must be a number > 0, got ${String(timeoutMs)}`,
    );
  }
  const visibilityTimeoutMs = options.visibilityTimeoutMs ?? timeoutMs + LEASE_MARGIN_MS;
  if (!Number.isFinite(visibilityTimeoutMs) || visibilityTimeoutMs <= timeoutMs) {
    throw new InvalidOptionError(
      where,
      `${prefix}visibilityTimeoutMs`,
      `(${visibilityTimeoutMs}) must be greater than timeoutMs (${timeoutMs}), or a running handler's event would be redelivered to another consumer`,
    );
  }
  if (options.group !== undefined && (typeof options.group !== 'string' || options.group.length === 0)) {
    throw new InvalidOptionError(where, `${prefix}group`, 'must be a non-empty string');
  }
  return { concurrency, timeoutMs, visibilityTimeoutMs };
}

import { ClosedError, InvalidOptionError, RelaybusError } from '../errors';
import { type AnyEventDefinition, buildEnvelope, validate } from '../events/define-event';
import type { Envelope } from '../events/envelope';
import { consoleLogger } from '../logger';
import { compose } from '../middleware/compose';
import type { ConsumeContext, Middleware, PublishContext } from '../middleware/middleware';
import type { AppendOptions } from '../store/event-store';
import { memoryTransport } from '../transport/memory-transport';
import type { TransportMessage } from '../transport/transport';
import type { Attempt } from './attempt';
import { resolveCloseTimeout, resolveSubscribeOptions } from './bus-options';
import { Catalog } from './catalog';
import { resolveRetry } from './retry';
import { subscriptionHandle } from './subscription-handle';
import { type RunnerConfig, SubscriptionRunner } from './subscription-runner';
import type {
  DeclareGroupOptions,
  EventBus,
  EventBusOptions,
  PendingSubscription,
  PublishOptions,
  SubscribeOptions,
} from './types';

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
export function createEventBus<const TEvents extends ReadonlyArray<AnyEventDefinition>, TTransaction = never>(
  options: EventBusOptions<TEvents, TTransaction>,
): EventBus<TEvents[number], TTransaction> {
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
  const outbox = store?.outbox === true;
  const streamOf = options.streamOf ?? ((event: Envelope) => event.subject ?? event.type);
  const deliver = async (ctx: PublishContext): Promise<void> => {
    if (store !== undefined) {
      const appendOptions: AppendOptions<TTransaction> = { expectedVersion: ctx.expectedVersion ?? 'any' };
      if (ctx.transaction !== undefined) appendOptions.transaction = ctx.transaction as TTransaction;
      const appended = await store.append(streamOf(ctx.envelope), [ctx.envelope], appendOptions);
      ctx.envelope = appended.events[0] as Envelope;
      // An outbox's relay sends what was appended; sending here too would deliver every event twice.
      if (outbox) return;
    }
    await transport.publish([toMessage(ctx.envelope, ctx.delayMs)]);
  };
  let publishChain = compose<PublishContext>([], deliver);
  let consumeChain: ((ctx: ConsumeContext) => Promise<void>) | undefined;

  /** Not `async`: the common path returns the transport's promise chained once, which is measurably cheaper. */
  function publish(
    definition: AnyEventDefinition,
    data: unknown,
    options: PublishOptions<TTransaction> = {},
  ): Promise<Envelope> {
    try {
      const type =
        typeof definition === 'object' && definition !== null ? definition.type : String(definition);
      if (closed) throw new ClosedError('the event bus', `publish "${type}"`);
      const known = catalog.require(definition, 'in publish()');
      checkPublishOptions(type, options);
      const value = validateOnPublish ? validate(type, known.schema, data) : data;
      if (value instanceof Promise) return value.then((valid) => send(known, valid, options));
      return send(known, value, options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  function send(
    known: AnyEventDefinition,
    value: unknown,
    options: PublishOptions<TTransaction>,
  ): Promise<Envelope> {
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
      transaction: options.transaction,
      logger,
    };
    return (publishChain ?? deliver)(ctx).then(() => ctx.envelope);
  }

  function checkPublishOptions(type: string, options: PublishOptions<TTransaction>): void {
    const where = `publish("${type}")`;
    if (options.transaction !== undefined && !outbox) {
      throw new InvalidOptionError(
        where,
        'transaction',
        store === undefined
          ? 'needs a bus with an outbox store (createEventBus({ store: postgresEventStore(...) })), whose relay delivers the event once the transaction commits'
          : `needs an outbox store; the ${store.name} store is not one, so the event would be sent before your transaction commits`,
      );
    }
    const { delayMs } = options;
    if (delayMs === undefined) return;
    if (typeof delayMs !== 'number' || !Number.isFinite(delayMs) || delayMs < 0) {
      throw new InvalidOptionError(where, 'delayMs', `must be a finite number >= 0, got ${String(delayMs)}`);
    }
    if (delayMs > 0 && outbox) {
      throw new InvalidOptionError(
        where,
        'delayMs',
        `is not carried through the ${store?.name ?? ''} outbox: its relay delivers each event as soon as it reads it`,
      );
    }
    if (delayMs > 0 && !transport.capabilities.delay) {
      throw new InvalidOptionError(where, 'delayMs', `is not supported by the ${transport.name} transport`);
    }
  }

  function subscribe(
    target: unknown,
    handler: unknown,
    subscribeOptions: SubscribeOptions = {},
  ): PendingSubscription {
    if (closed) throw new ClosedError('the event bus', 'subscribe');
    if (typeof handler !== 'function') {
      throw new InvalidOptionError('subscribe', 'handler', `must be a function, got ${typeof handler}`);
    }
    const resolvedTarget = catalog.resolve(target, 'subscribe');
    const merged: SubscribeOptions = { ...defaults, ...subscribeOptions };
    const where = `subscribe(${resolvedTarget.description})`;
    if (merged.group === undefined && subscribeOptions.startFrom === undefined) delete merged.startFrom;
    const resolved = resolveSubscribeOptions(where, '', merged);
    subscriptionCount += 1;
    const runner = new SubscriptionRunner({
      name: merged.group ?? `subscriber-${subscriptionCount}`,
      where,
      group: merged.group,
      startFrom: merged.startFrom,
      target: resolvedTarget,
      ...resolved,
      retry: resolveRetry(where, merged.retry),
      catalog,
      logger,
      validateOnConsume,
      transport,
      handler: handler as (event: Envelope, ctx: Attempt) => unknown,
      run: (attempt) => (consumeChain === undefined ? attempt.invokeHandler() : consumeChain(attempt)),
      publish: publish as RunnerConfig['publish'],
    });
    runners.add(runner);
    runner.ready.catch((error: unknown) => {
      runners.delete(runner);
      if (!RelaybusError.is(error, 'CLOSED')) logger.error(`${where} could not start`, { error });
    });
    const close = async (closeOptions?: { timeoutMs?: number }): Promise<void> => {
      const timeoutMs = resolveCloseTimeout(`${where}.close()`, closeOptions);
      merged.signal?.removeEventListener('abort', onAbort);
      await runner.close(timeoutMs);
      runners.delete(runner);
    };
    const onAbort = (): void => {
      void close();
    };
    if (merged.signal?.aborted === true) void close();
    else merged.signal?.addEventListener('abort', onAbort, { once: true });
    return subscriptionHandle(runner, close);
  }

  async function declareGroup(target: unknown, declareOptions: DeclareGroupOptions): Promise<void> {
    if (closed) throw new ClosedError('the event bus', 'declareGroup');
    const resolvedTarget = catalog.resolve(target, 'declareGroup');
    if (typeof declareOptions !== 'object' || declareOptions === null) {
      throw new InvalidOptionError(
        `declareGroup(${resolvedTarget.description})`,
        'options',
        'must be an object such as { group: "mailer" }',
      );
    }
    const { group, startFrom } = declareOptions;
    await transport.declareGroup({
      group,
      ...(resolvedTarget.topics === undefined ? {} : { topics: resolvedTarget.topics }),
      ...(resolvedTarget.pattern === undefined ? {} : { pattern: resolvedTarget.pattern }),
      ...(startFrom === undefined ? {} : { startFrom }),
    });
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
    declareGroup,
    close(closeOptions?: { timeoutMs?: number }): Promise<void> {
      if (closing !== undefined) return closing;
      let timeoutMs: number;
      try {
        timeoutMs = resolveCloseTimeout('eventBus.close()', closeOptions);
      } catch (error) {
        return Promise.reject(error);
      }
      closed = true;
      closing = (async () => {
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
  return bus as unknown as EventBus<TEvents[number], TTransaction>;
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

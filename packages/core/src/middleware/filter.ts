import { InvalidOptionError } from '../errors';
import type { Envelope } from '../events/envelope';
import type { ConsumeContext, Middleware, PublishContext } from './middleware';
import { checkSide, type MiddlewareSide, sided } from './side';

/**
 * Decides whether an event goes on: `true` keeps it. `ctx` tells the side (a consume context has `attempt`).
 *
 * @example
 * ```ts
 * const sameTenant: FilterPredicate = (event) => event.metadata.tenant === 'acme';
 * ```
 */
export type FilterPredicate = (envelope: Envelope, ctx: PublishContext | ConsumeContext) => boolean;

/**
 * Options for {@link filter}.
 *
 * @example
 * ```ts
 * filter((event) => !event.metadata.test, { side: 'publish', reason: 'test events are not sent' });
 * ```
 */
export interface FilterOptions {
  /**
   * Where to filter: before handling (`'consume'`; the event counts as handled and is acked), before sending
   * (`'publish'`; the event is neither stored nor sent, and `publish()` still resolves), or both.
   * @defaultValue 'consume'
   */
  side?: MiddlewareSide;
  /**
   * Why events are dropped, written to the debug log line of each dropped event.
   * @defaultValue 'rejected by filter predicate'
   */
  reason?: string;
  /**
   * Name of the middleware, to tell several filters apart in logs.
   * @defaultValue 'filter'
   */
  name?: string;
}

/**
 * Drops events for which `predicate` returns `false`: the rest of the chain (and the handler, or the transport)
 * does not run. Each dropped event is logged at debug level with the reason.
 *
 * @throws {@link InvalidOptionError} when `predicate` is not a function or `side` is unknown.
 * @example
 * ```ts
 * bus.use(filter((event) => event.metadata.tenant === process.env.TENANT, { reason: 'other tenant' }));
 * ```
 */
export function filter(predicate: FilterPredicate, options: FilterOptions = {}): Middleware {
  const where = 'filter()';
  if (typeof predicate !== 'function') {
    throw new InvalidOptionError(where, 'predicate', 'must be a function (envelope, ctx) => boolean');
  }
  const side = checkSide(where, options.side, 'consume');
  const reason = options.reason ?? 'rejected by filter predicate';
  const name = options.name ?? 'filter';

  const drop = (ctx: PublishContext | ConsumeContext, on: 'publish' | 'consume'): Promise<void> => {
    const { id, type } = ctx.envelope;
    ctx.logger.debug(`event dropped on ${on} by ${name}`, { id, type, reason });
    return Promise.resolve();
  };

  return sided(name, side, {
    publish: (ctx, next) => (predicate(ctx.envelope, ctx) ? next() : drop(ctx, 'publish')),
    consume: (ctx, next) => (predicate(ctx.envelope, ctx) ? next() : drop(ctx, 'consume')),
  });
}

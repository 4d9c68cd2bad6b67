import { InvalidEnvelopeError, InvalidOptionError } from '../errors';
import type { Envelope } from '../events/envelope';
import type { ConsumeContext, Middleware, PublishContext } from './middleware';
import { checkSide, type MiddlewareSide, sided } from './side';

/**
 * Returns the envelope to use instead of `envelope` (a new object; envelopes are read-only).
 *
 * @example
 * ```ts
 * const stampHost: EnvelopeTransform = (event) => ({ ...event, metadata: { ...event.metadata, host: 'api-1' } });
 * ```
 */
export type EnvelopeTransform = (
  envelope: Envelope,
  ctx: PublishContext | ConsumeContext,
) => Envelope | Promise<Envelope>;

/**
 * Options for {@link transform}.
 *
 * @example
 * ```ts
 * transform(redact, { side: 'consume', name: 'redact-pii' });
 * ```
 */
export interface TransformOptions {
  /**
   * Where to transform: before sending (`'publish'`; what is stored and every consumer sees the result), before
   * handling (`'consume'`; only this process's handlers see it), or both (it then runs twice for a local event).
   * @defaultValue 'publish'
   */
  side?: MiddlewareSide;
  /**
   * Name of the middleware, shown in logs and errors.
   * @defaultValue 'transform'
   */
  name?: string;
}

/**
 * Replaces each event's envelope with what `fn` returns: add metadata, redact fields, rewrite a subject. The result
 * is not validated again, and must keep the event's `type` (it decides routing and the handler).
 *
 * @throws {@link InvalidOptionError} when `fn` is not a function or `side` is unknown. The middleware rejects with
 * {@link InvalidEnvelopeError} when `fn` returns something that is not an envelope of the same type.
 * @example
 * ```ts
 * bus.use(transform((event) => ({ ...event, metadata: { ...event.metadata, region: 'eu-west-1' } })));
 * ```
 */
export function transform(fn: EnvelopeTransform, options: TransformOptions = {}): Middleware {
  const where = 'transform()';
  if (typeof fn !== 'function') {
    throw new InvalidOptionError(where, 'fn', 'must be a function (envelope, ctx) => envelope');
  }
  const side = checkSide(where, options.side, 'publish');
  const name = options.name ?? 'transform';

  const apply = async (ctx: PublishContext | ConsumeContext, next: () => Promise<void>): Promise<void> => {
    const before = ctx.envelope;
    const after = await fn(before, ctx);
    if (
      typeof after !== 'object' ||
      after === null ||
      typeof after.id !== 'string' ||
      after.type !== before.type
    ) {
      const got =
        typeof after === 'object' && after !== null ? `type "${String(after.type)}"` : String(after);
      throw new InvalidEnvelopeError(
        `${name} must return an envelope of type "${before.type}" with an id, got ${got}; copy the input with { ...envelope, ... }`,
      );
    }
    ctx.envelope = after;
    return next();
  };

  return sided(name, side, { publish: apply, consume: apply });
}

type Layer<C> = (ctx: C, next: () => Promise<void>) => Promise<void>;

/**
 * Chains layers in onion order (the first is the outermost) around `last`. Returns `undefined` when there are no
 * layers, so callers can take a fast path that skips the chain.
 */
export function compose<C>(
  layers: ReadonlyArray<Layer<C>>,
  last: (ctx: C) => Promise<void>,
): ((ctx: C) => Promise<void>) | undefined {
  if (layers.length === 0) return undefined;
  return layers.reduceRight<(ctx: C) => Promise<void>>(
    (next, layer) => (ctx) => layer(ctx, () => next(ctx)),
    last,
  );
}

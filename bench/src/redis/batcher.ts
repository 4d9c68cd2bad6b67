/**
 * Collects the ids published during one turn of the event loop and sends them as one batch on the next, the
 * way an application that publishes in bursts would hand them to a batching API. Every `add` returns the
 * promise of its batch.
 */
export class Batcher {
  #pending: number[] = [];
  #flushed: Promise<void> | undefined;

  constructor(private readonly send: (ids: ReadonlyArray<number>) => Promise<void>) {}

  add(id: number): Promise<void> {
    this.#pending.push(id);
    this.#flushed ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      const ids = this.#pending;
      this.#pending = [];
      this.#flushed = undefined;
      return this.send(ids);
    });
    return this.#flushed;
  }
}

/** Splits `items` into chunks of at most `size`. */
export function chunks<T>(items: ReadonlyArray<T>, size: number): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += size) result.push(items.slice(start, start + size));
  return result;
}

/**
 * The ids most recently seen, at most `max` of them (least recently seen forgotten first): what deduplicates
 * deliveries. `max` 0 remembers nothing.
 *
 * @example
 * ```ts
 * const seen = new RecentIds(1000);
 * if (seen.add(event.id)) handle(event);
 * ```
 */
export class RecentIds {
  readonly #ids = new Set<string>();
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  /** Remembers `id` as the most recent; returns `false` when it was already remembered. */
  add(id: string): boolean {
    const seen = this.#ids.delete(id);
    this.#ids.add(id);
    if (this.#ids.size > this.#max) this.#ids.delete(this.#ids.values().next().value as string);
    return !seen;
  }
}

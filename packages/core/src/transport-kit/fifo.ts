/**
 * A first-in, first-out queue on an array with a moving head: `push` and `shift` are O(1) amortised, unlike
 * `Array#shift` on a long array.
 *
 * @example
 * ```ts
 * import { Fifo } from '@relaybus/core/transport-kit';
 *
 * const fifo = new Fifo<string>();
 * fifo.push('a');
 * fifo.shift(); // 'a'
 * ```
 */
export class Fifo<T> {
  private items: Array<T | undefined> = [];
  private head = 0;

  /** How many items are queued. */
  get length(): number {
    return this.items.length - this.head;
  }

  /** Appends an item. */
  push(item: T): void {
    this.items.push(item);
  }

  /** Removes and returns the oldest item, or `undefined` when empty. */
  shift(): T | undefined {
    const items = this.items;
    if (this.head === items.length) return undefined;
    const item = items[this.head];
    items[this.head++] = undefined;
    if (this.head === items.length) {
      items.length = 0;
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= items.length) {
      // Reclaim the consumed prefix once it is at least half the array, so memory follows the live length.
      items.copyWithin(0, this.head);
      items.length -= this.head;
      this.head = 0;
    }
    return item;
  }

  /**
   * Removes every item for which `drop` returns true and returns them, oldest first; the rest keep their order.
   * O(n): for rare events such as a lost lease.
   */
  remove(drop: (item: T) => boolean): T[] {
    const kept: T[] = [];
    const removed: T[] = [];
    for (let i = this.head; i < this.items.length; i++) {
      const item = this.items[i] as T;
      (drop(item) ? removed : kept).push(item);
    }
    this.items = kept;
    this.head = 0;
    return removed;
  }

  /** Removes every item and returns them, oldest first. */
  takeAll(): T[] {
    const rest = this.items.slice(this.head) as T[];
    this.items = [];
    this.head = 0;
    return rest;
  }
}

/**
 * Something that becomes due at a point in time. `seq` is assigned by the heap to keep equal due times in
 * insertion order.
 *
 * @example
 * ```ts
 * const item: Due = { dueAt: Date.now() + 1_000, seq: 0 };
 * ```
 */
export interface Due {
  /** Epoch milliseconds at which the item is due. */
  dueAt: number;
  /** Insertion number, set by {@link DelayHeap.push}. */
  seq: number;
}

/**
 * A binary min-heap ordered by due time, then insertion order. One heap and one timer serve every delayed
 * message of a transport.
 *
 * @example
 * ```ts
 * const heap = new DelayHeap<Due>();
 * heap.push({ dueAt: 20, seq: 0 });
 * heap.push({ dueAt: 10, seq: 0 });
 * heap.pop()?.dueAt; // 10
 * ```
 */
export class DelayHeap<T extends Due> {
  private items: T[] = [];
  private nextSeq = 0;

  /** How many items are waiting. */
  get size(): number {
    return this.items.length;
  }

  /** The earliest item, without removing it. */
  peek(): T | undefined {
    return this.items[0];
  }

  /** Adds an item. */
  push(item: T): void {
    item.seq = this.nextSeq++;
    const items = this.items;
    let index = items.push(item) - 1;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = items[parentIndex] as T;
      if (!before(item, parent)) break;
      items[index] = parent;
      index = parentIndex;
    }
    items[index] = item;
  }

  /** Removes and returns the earliest item. */
  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    let index = 0;
    const count = items.length;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= count) break;
      const right = left + 1;
      let child = left;
      if (right < count && before(items[right] as T, items[left] as T)) child = right;
      const candidate = items[child] as T;
      if (!before(candidate, last)) break;
      items[index] = candidate;
      index = child;
    }
    items[index] = last;
    return top;
  }

  /** Removes every item. */
  clear(): void {
    this.items = [];
  }
}

function before(a: Due, b: Due): boolean {
  return a.dueAt < b.dueAt || (a.dueAt === b.dueAt && a.seq < b.seq);
}

import { Fifo } from './fifo';

/**
 * Per-key order within one consumer queue: the first item with a key holds it until released; later items
 * with that key are parked behind it, in order, and handed over one at a time.
 *
 * @example
 * ```ts
 * import { KeyLocks } from '@relaybus/core/transport-kit';
 *
 * const locks = new KeyLocks<string>();
 * locks.acquire('k', 'first'); // true: 'first' holds k
 * locks.acquire('k', 'second'); // false: parked
 * locks.release('k'); // 'second', which now holds k
 * ```
 */
export class KeyLocks<T> {
  /** Locked keys; the value holds what is parked behind the lock, if anything ever was. */
  private readonly locks = new Map<string, Fifo<T> | null>();
  private parkedCount = 0;

  /** Takes `key` for `item`, or parks `item` behind the current holder. Returns whether `item` holds the key. */
  acquire(key: string, item: T): boolean {
    const parked = this.locks.get(key);
    if (parked === undefined) {
      this.locks.set(key, null);
      return true;
    }
    this.parkedCount++;
    if (parked === null) {
      const fifo = new Fifo<T>();
      fifo.push(item);
      this.locks.set(key, fifo);
    } else {
      parked.push(item);
    }
    return false;
  }

  /** Releases `key`; returns the next parked item, which now holds it, or `undefined` when the key is free. */
  release(key: string): T | undefined {
    const parked = this.locks.get(key);
    if (parked === undefined) return undefined;
    const next = parked?.shift();
    if (next === undefined) this.locks.delete(key);
    else this.parkedCount--;
    return next;
  }

  /** How many items are parked behind held keys. */
  get parked(): number {
    return this.parkedCount;
  }

  /** Forgets every lock and returns everything that was parked, in order per key. */
  takeAll(): T[] {
    const parked: T[] = [];
    for (const fifo of this.locks.values()) if (fifo !== null) parked.push(...fifo.takeAll());
    this.locks.clear();
    this.parkedCount = 0;
    return parked;
  }

  /** Forgets every lock and everything parked. */
  clear(): void {
    this.locks.clear();
    this.parkedCount = 0;
  }
}

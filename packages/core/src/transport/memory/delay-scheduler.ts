import { DelayHeap, type Due } from './delay-heap';

const MAX_TIMER_MS = 2_147_483_647;

/**
 * Holds delayed items and hands each to `onDue` once its time has come, with a single timer armed for the
 * earliest one (not one timer per item). The timer is unref'd: pending delays do not keep the process alive.
 *
 * @example
 * ```ts
 * const scheduler = new DelayScheduler<Delayed>((item) => queue.enqueue(item));
 * scheduler.schedule(Object.assign(item, { dueAt: Date.now() + 1_000 }));
 * ```
 */
export class DelayScheduler<T extends Due> {
  private readonly heap = new DelayHeap<T>();
  private readonly onDue: (item: T) => void;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private timerDueAt = Number.POSITIVE_INFINITY;
  private readonly fire = (): void => this.releaseDue();

  constructor(onDue: (item: T) => void) {
    this.onDue = onDue;
  }

  /** Adds an item due at its `dueAt`. */
  schedule(item: T): void {
    this.heap.push(item);
    if (item.dueAt < this.timerDueAt) this.arm(item.dueAt);
  }

  /** Drops every pending item and stops the timer. */
  clear(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.timerDueAt = Number.POSITIVE_INFINITY;
    this.heap.clear();
  }

  private arm(dueAt: number): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timerDueAt = dueAt;
    this.timer = setTimeout(this.fire, Math.min(Math.max(0, dueAt - Date.now()), MAX_TIMER_MS));
    this.timer.unref();
  }

  private releaseDue(): void {
    this.timer = null;
    this.timerDueAt = Number.POSITIVE_INFINITY;
    const now = Date.now();
    for (let next = this.heap.peek(); next !== undefined && next.dueAt <= now; next = this.heap.peek()) {
      this.heap.pop();
      this.onDue(next);
    }
    const next = this.heap.peek();
    if (next !== undefined) this.arm(next.dueAt);
  }
}

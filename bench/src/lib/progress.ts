import type { HandleProbe } from './contender';

/**
 * Counts handled events and lets the runner wait until a count is reached. A wait fails when a publish failed or
 * when no event was handled for `stallTimeoutMs`.
 */
export class Progress {
  count = 0;
  private goal = Number.POSITIVE_INFINITY;
  private waiter: { resolve: () => void; reject: (error: unknown) => void } | undefined;
  private failure: { error: unknown } | undefined;

  readonly probe: HandleProbe = () => {
    this.count += 1;
    if (this.count >= this.goal) this.settle()?.resolve();
  };

  /** Records a failed publish; the current or next wait rejects with it. Give it to `watchPublish`. */
  readonly fail = (error: unknown): void => {
    this.failure ??= { error };
    this.settle()?.reject(error);
  };

  constructor(private readonly stallTimeoutMs: number) {}

  /** Throws the first publish failure, if any. */
  check(): void {
    if (this.failure !== undefined) throw this.failure.error;
  }

  /** Resolves once `count` events were handled. */
  reach(count: number): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure.error);
    if (this.count >= count) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      let seen = this.count;
      const watchdog = setInterval(() => {
        if (this.count > seen) {
          seen = this.count;
          return;
        }
        this.settle()?.reject(
          new Error(
            `stalled: no event handled for ${this.stallTimeoutMs} ms, ${this.count} handled of ${count}`,
          ),
        );
      }, this.stallTimeoutMs);
      this.goal = count;
      this.waiter = {
        resolve: () => {
          clearInterval(watchdog);
          resolve();
        },
        reject: (error) => {
          clearInterval(watchdog);
          reject(error);
        },
      };
    });
  }

  private settle(): { resolve: () => void; reject: (error: unknown) => void } | undefined {
    const waiter = this.waiter;
    this.goal = Number.POSITIVE_INFINITY;
    this.waiter = undefined;
    return waiter;
  }
}

/** Surfaces a rejected publish instead of leaving it unhandled. */
export function watchPublish(result: unknown, onError: (error: unknown) => void): void {
  if (result instanceof Promise) result.then(undefined, onError);
}

import type { Logger } from '@relaybus/core';

/**
 * Makes a run of failures of one repeated operation (reads, heartbeats) visible without flooding the log: the
 * first failure at warn level, the next ones at debug level, and the recovery at info level with how long it took.
 */
export class HealthLog {
  readonly #logger: Logger | undefined;
  readonly #what: string;
  #failures = 0;
  #failingSince = 0;

  /** `what` completes "… failed" and "… works again", such as `reading from Redis at 127.0.0.1:6379`. */
  constructor(logger: Logger | undefined, what: string) {
    this.#logger = logger;
    this.#what = what;
  }

  failed(error: unknown): void {
    if (this.#failures++ === 0) {
      this.#failingSince = Date.now();
      this.#logger?.warn(`redis transport: ${this.#what} failed; retrying`, { error });
    } else {
      this.#logger?.debug(`redis transport: ${this.#what} failed again`, { error, failures: this.#failures });
    }
  }

  succeeded(): void {
    if (this.#failures === 0) return;
    this.#logger?.info(
      `redis transport: ${this.#what} works again after ${Date.now() - this.#failingSince} ms (${this.#failures} failures)`,
    );
    this.#failures = 0;
  }
}

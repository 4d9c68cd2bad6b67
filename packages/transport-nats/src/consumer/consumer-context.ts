import type { Logger } from '@relaybus/core';
import type { Connector } from '../connection';
import type { NatsDeadLetters } from '../dead-letters';
import type { ResolvedOptions } from '../options';
import type { Topology } from '../topology';

const REMEMBERED = 10_000;

/**
 * When messages were first delivered in this process, by stream sequence and consumer, so a redelivery here reports
 * the same `firstAttemptAt`. A redelivery first seen by another process falls back to the message's stream time.
 */
export class FirstAttempts {
  readonly #times = new Map<string, number>();

  get(key: string): number | undefined {
    return this.#times.get(key);
  }

  set(key: string, time: number): void {
    this.#times.set(key, time);
    if (this.#times.size > REMEMBERED) {
      const oldest = this.#times.keys().next();
      if (oldest.done !== true) this.#times.delete(oldest.value);
    }
  }

  delete(key: string): void {
    this.#times.delete(key);
  }
}

/** What every subscription of one transport shares. */
export interface ConsumerContext {
  readonly connector: Connector;
  readonly topology: Topology;
  readonly deadLetters: NatsDeadLetters;
  readonly options: ResolvedOptions;
  readonly logger: Logger;
  readonly firstAttempts: FirstAttempts;
  /** Resolves once the server has read every ack and nak sent before the call (one flush per event-loop turn). */
  flushSoon(): Promise<void>;
}

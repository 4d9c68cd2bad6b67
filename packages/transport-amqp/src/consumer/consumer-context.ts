import type { Logger } from '@relaybus/core';
import type { AmqpConnection } from '../connection';
import type { AmqpDeadLetters } from '../dead-letters';
import type { Names } from '../names';
import type { ResolvedOptions } from '../options';
import type { Publisher } from '../publisher';
import type { Topology } from '../topology';
import type { Lane } from './amqp-delivery';

/** What every subscription of a transport shares. */
export interface ConsumerContext {
  readonly connection: AmqpConnection;
  readonly topology: Topology;
  readonly publisher: Publisher;
  readonly deadLetters: AmqpDeadLetters;
  readonly names: Names;
  readonly options: ResolvedOptions;
  readonly logger: Logger;
}

/**
 * Acks or nacks on a lane's channel while it is live. A channel that closed a moment ago (its close event still on
 * its way) throws: the broker hands the message out again then, which is all a failed settle could lead to.
 */
export function settle(lane: Lane, operation: () => void): void {
  if (!lane.live) return;
  try {
    operation();
  } catch {
    // the channel closed: see above
  }
}

/** Reported as the abort reason of a delivery taken back. */
export class TakenBackError extends Error {
  constructor(why: string) {
    super(why);
    this.name = 'TakenBackError';
  }
}

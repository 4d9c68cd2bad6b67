import { ClosedError } from '../../errors';
import { checkDeadLetterFilter, createDeadLetter, selectDeadLetters } from '../../transport-kit/dead-letters';
import type { DeadLetter, DeadLetterFilter, DeadLetterInput, DeadLetterQueue } from '../transport';
import type { ConsumerQueue } from './consumer-queue';
import type { MemoryDelivery } from './delivery';

/**
 * A dead letter with the queue it failed in (needed to redrive letters of group-less subscribers).
 *
 * @example
 * ```ts
 * const record: DeadLetterRecord = { letter, queue: delivery.queue };
 * ```
 */
export interface DeadLetterRecord {
  readonly letter: DeadLetter;
  readonly queue: ConsumerQueue;
}

/**
 * What the dead-letter list needs from its transport.
 *
 * @example
 * ```ts
 * const host: DeadLetterHost = { isClosed: () => false, redrive: (record) => true };
 * ```
 */
export interface DeadLetterHost {
  isClosed(): boolean;
  /** Queues the letter's message again with attempts reset; false when there is nobody to send it to. */
  redrive(record: DeadLetterRecord): boolean;
}

/**
 * The memory transport's dead-letter list, oldest first.
 *
 * @example
 * ```ts
 * const letters = new MemoryDeadLetters(host);
 * await letters.list({ group: 'mailer', limit: 10 });
 * ```
 */
export class MemoryDeadLetters implements DeadLetterQueue {
  private records: DeadLetterRecord[] = [];
  private readonly host: DeadLetterHost;

  constructor(host: DeadLetterHost) {
    this.host = host;
  }

  /** Records a dead-lettered delivery. */
  add(delivery: MemoryDelivery, input: DeadLetterInput): void {
    const letter = createDeadLetter({
      message: delivery.message,
      group: delivery.queue.name,
      input,
      attempts: delivery.attempt,
      firstAttemptAt: delivery.firstAttemptAt,
      lastAttemptAt: delivery.startedAt,
    });
    this.records.push({ letter, queue: delivery.queue });
  }

  async list(filter: DeadLetterFilter = {}): Promise<DeadLetter[]> {
    checkDeadLetterFilter(filter, 'deadLetters.list()');
    return this.select(filter).map((record) => record.letter);
  }

  async redrive(filter: DeadLetterFilter = {}): Promise<number> {
    checkDeadLetterFilter(filter, 'deadLetters.redrive()');
    if (this.host.isClosed()) throw new ClosedError('the memory transport', 'redrive dead letters');
    const redriven = new Set(this.select(filter).filter((record) => this.host.redrive(record)));
    this.records = this.records.filter((record) => !redriven.has(record));
    return redriven.size;
  }

  async purge(filter: DeadLetterFilter = {}): Promise<number> {
    checkDeadLetterFilter(filter, 'deadLetters.purge()');
    const purged = new Set(this.select(filter));
    this.records = this.records.filter((record) => !purged.has(record));
    return purged.size;
  }

  private select(filter: DeadLetterFilter): DeadLetterRecord[] {
    return selectDeadLetters(this.records, filter, (record) => record.letter);
  }
}

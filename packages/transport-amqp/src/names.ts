import { createHash } from 'node:crypto';

/** Longest queue name RabbitMQ accepts, in bytes. */
const MAX_NAME_BYTES = 255;

/** Where a delayed message goes when its delay is over. */
export type DelayTarget = 'keyed' | 'unkeyed' | 'retry';

/**
 * Names of everything the transport declares for one exchange. Group queues are `<exchange>/<group>/<selector>/<kind>`:
 * `/` is in no exchange or group name, so the group reads back from a queue name (dead letters the broker made name
 * only the queue).
 */
export class Names {
  /** The topic exchange named by the user: messages without a key, routing key = topic. */
  readonly main: string;
  /** The topic exchange of messages with a key (ordered group queues bind here); routing key = topic. */
  readonly keyed: string;
  /** Where messages without a key are published: the main exchange. */
  readonly unkeyed: string;
  /** Headers exchange routing delayed messages to their delay queue. */
  readonly delay: string;
  /** The durable queue of dead letters. */
  readonly deadLetters: string;

  constructor(exchange: string) {
    this.main = exchange;
    this.keyed = `${exchange}.keyed`;
    this.unkeyed = exchange;
    this.delay = `${exchange}.delay`;
    this.deadLetters = `${exchange}.dead-letters`;
  }

  /** The queue of `group` for one selector (a topic or a pattern); `kind` is `ordered` (keyed) or `shared`. */
  groupQueue(group: string, selector: string, kind: 'ordered' | 'shared'): string {
    const name = `${this.main}/${group}/${selector}/${kind}`;
    if (Buffer.byteLength(name) <= MAX_NAME_BYTES) return name;
    const digest = createHash('sha256').update(selector).digest('hex').slice(0, 32);
    return `${this.main}/${group}/~${digest}/${kind}`;
  }

  /** The group a queue of {@link Names.groupQueue} belongs to, or `undefined` for another queue. */
  groupOf(queue: string): string | undefined {
    const prefix = `${this.main}/`;
    if (!queue.startsWith(prefix)) return undefined;
    const end = queue.indexOf('/', prefix.length);
    return end < 0 ? undefined : queue.slice(prefix.length, end);
  }

  /** The delay queue holding messages for `delayMs` (a rounded bucket) before they go to `target`. */
  delayQueue(target: DelayTarget, delayMs: number): string {
    return `${this.main}.delay.${target}.${delayMs}`;
  }
}

/**
 * Rounds a delay up to two significant digits (1234 ms → 1300 ms), so that delays share a bounded number of delay
 * queues. Never earlier than asked; at most 10 % later.
 */
export function delayBucket(delayMs: number): number {
  const ms = Math.ceil(delayMs);
  if (ms < 100) return Math.max(1, ms);
  const step = 10 ** (Math.floor(Math.log10(ms)) - 1);
  return Math.ceil(ms / step) * step;
}

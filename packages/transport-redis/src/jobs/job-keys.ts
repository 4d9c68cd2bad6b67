import { InvalidOptionError } from '@relaybus/core';
import { topicProblem } from '../names';

/**
 * The keys of one queue. Every key starts with `<prefix>:j:{<queue>}`, whose hash tag puts all of them in one Redis
 * Cluster slot: the scripts get the base as an argument and name the rest themselves (job hashes, group lines,
 * rate windows, unique locks), which Redis allows for keys of the slot the script runs in.
 *
 * Under the base: `meta` (counters, config, pause flag), `job:<id>` (one hash per job), `s:<state>` (ids per state
 * in the order they entered it), `q:<level>` and `gq:<level>:<group>` (pending lines), `ready:<level>` (groups
 * that may start a job, in turn order), `throttled`, `gactive`, `rate:<group>`, `due`, `leases`, `age`,
 * `expiring`, `uniq:<key>`, `ticks`, `wake` (the list idle workers block on) and `idle`.
 */
export class JobKeys {
  /** Common start of every key of the queue; ends with the hash tag. */
  readonly base: string;
  /** The hash of counters and settings; the first key of every script, which routes it to the queue's slot. */
  readonly meta: string;
  /** The list idle workers block on: scripts push a token when a job may have become claimable. */
  readonly wake: string;
  /** Set (with a TTL) while a worker of the queue is idle: scripts push wake tokens only then. */
  readonly idle: string;
  /** Hash of schedule id → latest tick enqueued. */
  readonly ticks: string;

  constructor(prefix: string, queue: string) {
    this.base = `${prefix}:j:{${queue}}`;
    this.meta = `${this.base}:meta`;
    this.wake = `${this.base}:wake`;
    this.idle = `${this.base}:idle`;
    this.ticks = `${this.base}:ticks`;
  }
}

/**
 * Checks a queue name: it becomes the keys' hash tag, so braces (and whitespace, which makes keys unreadable) are
 * refused. Core's queue names (letters, digits and `_.:-`) always pass.
 *
 * @throws `InvalidOptionError` naming the queue and the rule.
 */
export function checkQueueName(queue: unknown, where: string): asserts queue is string {
  const problem = topicProblem(queue);
  if (problem !== undefined) throw new InvalidOptionError(where, 'queue', problem);
}

import type { JobPage, JobRecord, JobState, QueueCounts } from '@relaybus/core';
import type { AddOutcome, ClaimedJob } from '@relaybus/core/transport-kit';
import { IncompatibleClientError } from '../errors';
import { parseFieldList, parseScriptArray } from '../replies';
import { decodeJob } from './job-codec';
import { encodeCursor } from './list-cursor';

const ADD_STATUSES: ReadonlySet<unknown> = new Set(['added', 'duplicate', 'deduplicated', 'debounced']);

function unrecognised(script: string, reply: unknown, expected: string): IncompatibleClientError {
  let text: string;
  try {
    text = JSON.stringify(reply) ?? String(reply);
  } catch {
    text = String(reply);
  }
  return new IncompatibleClientError(
    `EVALSHA (${script})`,
    `the reply to the ${script} script was not recognised (expected ${expected}, got ${text.slice(0, 200)})`,
  );
}

/** Reads a script reply that is an integer (ioredis gives a number in RESP2 and RESP3 alike). */
export function parseCount(script: string, reply: unknown): number {
  if (typeof reply !== 'number' || !Number.isSafeInteger(reply))
    throw unrecognised(script, reply, 'an integer');
  return reply;
}

/** Reads the 1 / 0 reply of a lease script: whether the lease was still the job's. */
export function parseDone(script: string, reply: unknown): boolean {
  return parseCount(script, reply) === 1;
}

/** Reads a script reply that is one of `values`. */
export function parseWord<T extends string>(script: string, reply: unknown, values: ReadonlyArray<T>): T {
  if (!values.includes(reply as T)) throw unrecognised(script, reply, values.join(' | '));
  return reply as T;
}

/** Reads the `{ status, id, ... }` reply of the add script. */
export function parseAddOutcomes(reply: unknown): AddOutcome[] {
  const list = parseScriptArray('add', reply);
  const outcomes: AddOutcome[] = [];
  for (let index = 0; index < list.length; index += 2) {
    const [status, id]: unknown[] = [list[index], list[index + 1]];
    if (!ADD_STATUSES.has(status) || typeof id !== 'string') {
      throw unrecognised('add', reply, '[status, id, ...]');
    }
    outcomes.push({ status: status as AddOutcome['status'], id });
  }
  return outcomes;
}

/** Reads the claim script's reply: when the next job falls due (ms from now, if any) and the claimed jobs. */
export function parseClaim(
  queue: string,
  reply: unknown,
): { readonly nextDueInMs: number | undefined; readonly jobs: ClaimedJob[] } {
  const [due, ...jobs] = parseScriptArray('claim', reply);
  const nextDueInMs = Number(due);
  if (typeof due !== 'string' || !Number.isFinite(nextDueInMs)) {
    throw unrecognised('claim', reply, '[nextDueInMs, job fields, ...]');
  }
  return {
    nextDueInMs: nextDueInMs < 0 ? undefined : nextDueInMs,
    jobs: jobs.map((fields) => {
      const job = decodeJob(queue, parseFieldList('claim', fields));
      if (job.lease === undefined) throw unrecognised('claim', reply, 'leased jobs');
      return job as ClaimedJob;
    }),
  };
}

/** Reads the get script's reply: a job, or `undefined` for an empty list. */
export function parseJob(queue: string, reply: unknown): JobRecord | undefined {
  const fields = parseFieldList('get', reply);
  return fields.size === 0 ? undefined : decodeJob(queue, fields);
}

/** Reads the counts script's reply (`states` in the order the script was given them). */
export function parseCounts(queue: string, states: ReadonlyArray<JobState>, reply: unknown): QueueCounts {
  const [paused, ...rest] = parseScriptArray('counts', reply);
  const oldest = rest.pop();
  if (rest.length !== states.length || rest.some((count) => typeof count !== 'number')) {
    throw unrecognised('counts', reply, '[paused, count per state..., oldest]');
  }
  const counts = Object.fromEntries(states.map((state, index) => [state, rest[index]])) as Record<
    JobState,
    number
  >;
  const oldestPendingAt = Number(oldest);
  return {
    queue,
    paused: paused === 1,
    counts,
    ...(oldest === '' || !Number.isFinite(oldestPendingAt) ? {} : { oldestPendingAt }),
  };
}

/** Reads the list script's reply into a page. */
export function parseListPage(queue: string, reply: unknown): JobPage {
  const [more, ...entries] = parseScriptArray('list', reply);
  const jobs: JobRecord[] = [];
  let last: { score: string; id: string } | undefined;
  for (let index = 0; index < entries.length; index += 3) {
    const [id, score]: unknown[] = [entries[index], entries[index + 1]];
    if (typeof id !== 'string' || typeof score !== 'string') {
      throw unrecognised('list', reply, '[more, id, score, fields, ...]');
    }
    const fields = parseFieldList('list', entries[index + 2]);
    if (fields.size > 0) jobs.push(decodeJob(queue, fields));
    last = { score, id };
  }
  return more === '1' && last !== undefined ? { jobs, next: encodeCursor(last) } : { jobs };
}

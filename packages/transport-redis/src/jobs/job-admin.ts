import {
  InvalidOptionError,
  JOB_STATES,
  type JobPage,
  type JobRecord,
  type JobState,
  type QueueCounts,
} from '@relaybus/core';
import { parseCount, parseCounts, parseJob, parseListPage, parseWord } from './job-replies';
import { decodeCursor } from './list-cursor';
import {
  CANCEL_SCRIPT,
  COUNTS_SCRIPT,
  GET_SCRIPT,
  LIST_SCRIPT,
  PAUSE_SCRIPT,
  PURGE_SCRIPT,
  RETRY_DEAD_SCRIPT,
} from './lua/admin-scripts';
import { JOB_LIMITS } from './options';
import { chunks, type QueueContext, runScript } from './queue-context';

// Inspection and control of one queue: what `jobs.inspect()`, `jobs.list()`, `jobs.dead` and friends end up in.

const STATES: ReadonlySet<unknown> = new Set(JOB_STATES);
const CANCEL_OUTCOMES = ['cancelled', 'cancelling', 'finished', 'not-found'] as const;

/** Jobs per state, the pause flag and the oldest pending job's due time. */
export async function countJobs(context: QueueContext): Promise<QueueCounts> {
  const reply = await runScript(context, COUNTS_SCRIPT, JOB_STATES);
  return parseCounts(context.queue, JOB_STATES, reply);
}

/**
 * A page of jobs in one state, in the order they entered it.
 *
 * @throws `InvalidOptionError` for an unknown state, a limit that is not a positive integer, or a foreign cursor.
 */
export async function listJobs(
  context: QueueContext,
  request: { readonly state: JobState; readonly limit: number; readonly after?: string },
): Promise<JobPage> {
  const where = 'redisJobBackend.list()';
  if (!STATES.has(request.state)) {
    throw new InvalidOptionError(where, 'state', `must be one of ${JOB_STATES.join(', ')}`);
  }
  const { limit } = request;
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new InvalidOptionError(where, 'limit', `must be a positive integer, got ${String(limit)}`);
  }
  const cursor = request.after === undefined ? undefined : decodeCursor(request.after, where);
  const reply = await runScript(context, LIST_SCRIPT, [
    request.state,
    limit,
    cursor?.score ?? '',
    cursor?.id ?? '',
  ]);
  return parseListPage(context.queue, reply);
}

/** One job in any state while it is retained. */
export async function getJob(context: QueueContext, id: string): Promise<JobRecord | undefined> {
  return parseJob(context.queue, await runScript(context, GET_SCRIPT, [id]));
}

/** Cancels a job (removed, or flagged for its worker when active). */
export async function cancelJob(
  context: QueueContext,
  id: string,
): Promise<(typeof CANCEL_OUTCOMES)[number]> {
  return parseWord('cancel', await runScript(context, CANCEL_SCRIPT, [id]), CANCEL_OUTCOMES);
}

/**
 * Runs a bulk script over `ids` in chunks, or (for 'all') over the first jobs of `state` chunk by chunk, at most as
 * many chunks as the state held when it started (jobs that enter it meanwhile are left for the next call).
 */
async function inChunks(
  context: QueueContext,
  state: 'completed' | 'dead',
  ids: ReadonlyArray<string> | 'all',
  run: (ids: ReadonlyArray<string>) => Promise<number>,
): Promise<number> {
  let total = 0;
  if (ids !== 'all') {
    for (const chunk of chunks(ids, JOB_LIMITS.bulkChunk)) total += await run(chunk);
    return total;
  }
  const held = await context.redis.zcard(`${context.keys.base}:s:${state}`);
  for (let round = 0; round * JOB_LIMITS.bulkChunk < held; round++) {
    const done = await run([]);
    total += done;
    if (done < JOB_LIMITS.bulkChunk) break;
  }
  return total;
}

/** Dead jobs back to pending, failures and crashes reset. */
export function retryDeadJobs(context: QueueContext, ids: ReadonlyArray<string> | 'all'): Promise<number> {
  return inChunks(context, 'dead', checkIds(ids, 'redisJobBackend.retryDead()'), async (chunk) =>
    parseCount('retryDead', await runScript(context, RETRY_DEAD_SCRIPT, [JOB_LIMITS.bulkChunk, ...chunk])),
  );
}

/** Removes completed or dead jobs for good. */
export function purgeJobs(
  context: QueueContext,
  request: { readonly state: 'completed' | 'dead'; readonly ids?: ReadonlyArray<string> },
): Promise<number> {
  const where = 'redisJobBackend.purge()';
  if (request.state !== 'completed' && request.state !== 'dead') {
    throw new InvalidOptionError(where, 'state', "must be 'completed' or 'dead'");
  }
  if (request.ids !== undefined && request.ids.length === 0) return Promise.resolve(0);
  const ids = request.ids === undefined ? 'all' : checkIds(request.ids, where);
  return inChunks(context, request.state, ids, async (chunk) =>
    parseCount(
      'purge',
      await runScript(context, PURGE_SCRIPT, [request.state, JOB_LIMITS.bulkChunk, ...chunk]),
    ),
  );
}

/** Pauses or resumes claims from the queue. */
export async function setPaused(context: QueueContext, paused: boolean): Promise<void> {
  await runScript(context, PAUSE_SCRIPT, [paused ? '1' : '0']);
}

function checkIds(ids: ReadonlyArray<string> | 'all', where: string): ReadonlyArray<string> | 'all' {
  if (ids === 'all') return ids;
  if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string')) {
    throw new InvalidOptionError(where, 'ids', "must be 'all' or an array of job ids");
  }
  return ids;
}

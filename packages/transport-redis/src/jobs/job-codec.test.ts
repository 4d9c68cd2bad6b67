import type { NewJob } from '@relaybus/core/transport-kit';
import { describe, expect, it } from 'vitest';
import { decodeJob, encodeNewJob } from './job-codec';
import { parseAddOutcomes, parseClaim, parseCounts } from './job-replies';
import { decodeCursor, encodeCursor } from './list-cursor';
import { JOB_ARGS } from './lua/add-scripts';

const JOB: NewJob = {
  id: 'job-1',
  type: 'mail:send',
  payload: { to: 'ada', n: [1, 2] },
  priority: 'high',
  group: '',
  runAt: 1_000.4,
  enqueuedAt: 900,
  maxAttempts: 5,
  maxCrashes: 3,
  timeoutMs: 60_000,
  backoff: { initialDelayMs: 100 },
  unique: { key: 'k', ttlMs: 2_000, mode: 'debounce' },
};

/** The hash the add script writes for `JOB`, then a claim. */
const STORED = new Map(
  Object.entries({
    id: 'job-1',
    type: 'mail:send',
    payload: '{"to":"ada","n":[1,2]}',
    priority: 'high',
    group: '',
    runAt: '1000',
    enqueuedAt: '900',
    maxAttempts: '5',
    maxCrashes: '3',
    timeoutMs: '60000',
    backoff: '{"initialDelayMs":100}',
    uniqueKey: 'k',
    uniqueTtlMs: '2000',
    uniqueMode: 'debounce',
    failures: '1',
    crashes: '0',
    state: 'active',
    token: '17',
    worker: 'w1',
    expiresAt: '6000',
    startedAt: '1000',
    errors: '{"attempt":1,"kind":"error","error":{"name":"E","message":"a\\nb"},"at":950}',
    limits: '1:0:0',
  }),
);

describe('the job codec', () => {
  it('writes a job as the add script reads it: optional values marked, so that an empty one stays a value', () => {
    const args = encodeNewJob(JOB, 'test');
    expect(args).toHaveLength(JOB_ARGS);
    expect(args).toEqual([
      'job-1',
      'mail:send',
      '={"to":"ada","n":[1,2]}',
      'high',
      '=',
      '1000',
      '900',
      '5',
      '3',
      '60000',
      '={"initialDelayMs":100}',
      '=k',
      '2000',
      'debounce',
    ]);
    const { group: _group, backoff: _backoff, unique: _unique, ...required } = JOB;
    const bare = encodeNewJob({ ...required, payload: undefined }, 't');
    expect([bare[2], bare[4], bare[10], bare[11], bare[12], bare[13]]).toEqual([
      '',
      '',
      '',
      '',
      '0',
      'dedupe',
    ]);
  });

  it('refuses what would corrupt a queue, naming the job and the field', () => {
    expect(() => encodeNewJob({ ...JOB, priority: 'urgent' as 'high' }, 'add()')).toThrow(
      /job "job-1".priority/,
    );
    expect(() => encodeNewJob({ ...JOB, runAt: Number.NaN }, 'add()')).toThrow(/runAt/);
    expect(() => encodeNewJob({ ...JOB, id: '' }, 'add()')).toThrow(/job.id/);
    expect(() => encodeNewJob({ ...JOB, payload: { big: 1n } }, 'add()')).toThrow(
      /payload.*JSON-serialisable/,
    );
  });

  it('reads a stored job back as a record, lease and history included', () => {
    expect(decodeJob('default', STORED)).toEqual({
      ...JOB,
      runAt: 1_000,
      queue: 'default',
      state: 'active',
      failures: 1,
      crashes: 0,
      startedAt: 1_000,
      errors: [{ attempt: 1, kind: 'error', error: { name: 'E', message: 'a\nb' }, at: 950 }],
      lease: { id: 'job-1', token: '17', worker: 'w1', expiresAt: 6_000 },
    });
    const finished = new Map(STORED);
    for (const field of ['token', 'worker', 'expiresAt', 'payload']) finished.delete(field);
    finished.set('state', 'completed');
    finished.set('result', '{"ok":true}');
    const record = decodeJob('default', finished);
    expect(record).toMatchObject({ state: 'completed', result: { ok: true }, payload: undefined });
    expect(record.lease).toBeUndefined();
  });

  it('fails loudly on a hash it did not write', () => {
    const broken = new Map(STORED);
    broken.set('maxAttempts', 'many');
    expect(() => decodeJob('default', broken)).toThrow(
      /job "job-1" of queue "default" has a field "maxAttempts"/,
    );
    broken.set('state', 'lost');
    expect(() => decodeJob('default', broken)).toThrow(/not a job state/);
  });

  it('reads script replies, and refuses shapes it does not know with IncompatibleClientError', () => {
    expect(parseAddOutcomes(['added', 'a', 'debounced', 'b'])).toEqual([
      { status: 'added', id: 'a' },
      { status: 'debounced', id: 'b' },
    ]);
    expect(() => parseAddOutcomes(['maybe', 'a'])).toThrow(
      expect.objectContaining({ code: 'INCOMPATIBLE_CLIENT' }),
    );
    const claim = parseClaim('default', ['250', [...STORED].flat()]);
    expect(claim.nextDueInMs).toBe(250);
    expect(claim.jobs.map((job) => job.lease.token)).toEqual(['17']);
    expect(parseClaim('default', ['-1']).nextDueInMs).toBeUndefined();
    expect(parseCounts('q', ['pending', 'dead'], [1, 3, 0, '1700'])).toEqual({
      queue: 'q',
      paused: true,
      counts: { pending: 3, dead: 0 },
      oldestPendingAt: 1_700,
    });
    expect(() => parseCounts('q', ['pending'], [0, '3', ''])).toThrow(/not recognised/);
  });

  it('round-trips list cursors and refuses foreign ones', () => {
    const cursor = { score: '42', id: 'job:with:colons' };
    expect(decodeCursor(encodeCursor(cursor), 'list()')).toEqual(cursor);
    expect(() => decodeCursor('not-a-cursor', 'list()')).toThrow(/not a cursor of this backend/);
    expect(() => decodeCursor(Buffer.from('["x","y"]').toString('base64url'), 'list()')).toThrow(/cursor/);
  });
});

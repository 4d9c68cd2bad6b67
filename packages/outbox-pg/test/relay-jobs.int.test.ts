import type { Envelope, OutboxJobReceiver } from '@relaybus/core';
import { createJobQueue, JOB_ENQUEUED_EVENT, TransportUnavailableError } from '@relaybus/core';
import { describe, expect, it } from 'vitest';
import type { OutboxRelayOptions } from '../src/index';
import { createOutboxRelay, postgresEventStore } from '../src/index';
import { useTestDatabase } from './support/database';
import { envelope } from './support/events';
import type { QueueWithWorker } from './support/jobs';
import { inTransaction, queueWithWorker, quiet, Reindex, SendReceipt } from './support/jobs';
import { recordingTransport, until } from './support/recording-transport';

// Jobs enqueued inside the caller's transaction (`enqueue(..., { transaction })`) and handed to their queue by the
// relay, on real Postgres, with the memory job backend and a worker.

const db = useTestDatabase();
const labelOf = (body: unknown): string => String((body as { data: { label?: unknown } }).data.label);

/**
 * A fresh schema with a store, a queue on the memory backend with a worker recording runs, a recording transport and
 * a relay (not started) given the queue, or what `queue` makes of it; `relay` adds relay options.
 */
async function setup(
  options: {
    partitions?: number;
    queue?: (jobs: QueueWithWorker['jobs']) => OutboxJobReceiver;
    relay?: Pick<OutboxRelayOptions, 'batchSize' | 'retry'>;
  } = {},
) {
  const schema = await db.newSchema({ partitions: options.partitions ?? 4 });
  const store = db.track(postgresEventStore({ pool: db.pool, schema }));
  const { jobs, runs } = queueWithWorker(store);
  db.track(jobs);
  const transport = recordingTransport();
  const jobQueues = [options.queue === undefined ? jobs : options.queue(jobs)];
  const relay = db.track(
    createOutboxRelay({ pool: db.pool, schema, transport, jobQueues, logger: quiet, ...options.relay }),
  );
  return { schema, store, jobs, runs, transport, relay };
}

describe('outbox relay: jobs enqueued in a transaction', () => {
  db.shareHorizonPerTest();

  it('a committed enqueue is handed to its queue, not published, and runs exactly once', async () => {
    const { schema, jobs, runs, transport, relay } = await setup();
    await db.pool.query(`CREATE TABLE "${schema}".orders (id text PRIMARY KEY)`);
    await relay.start();
    const result = await inTransaction(db.pool, async (client) => {
      await client.query(`INSERT INTO "${schema}".orders VALUES ('o1')`);
      const enqueued = await jobs.enqueue(SendReceipt, { orderId: 'o1' }, { transaction: client });
      // Inside the transaction the job is only in the outbox: no worker can see it yet.
      expect(await jobs.get(enqueued.id)).toBeUndefined();
      return enqueued;
    });
    expect(result.status).toBe('outbox');

    await until(async () => (await jobs.get(result.id))?.state === 'completed', 'the job completed');
    await until(async () => (await relay.stats()).eventsBehind === 0, 'the relay caught up');
    expect(runs).toEqual([{ jobId: result.id, queue: 'default', orderId: 'o1' }]);
    expect(transport.published).toEqual([]);
    expect((await relay.stats()).parked).toBe(0);
  });

  it('a rolled-back enqueue is never enqueued: the jobs committed after it run, it does not', async () => {
    const { store, jobs, runs, relay } = await setup();
    await relay.start();
    const rolledBack = await inTransaction(
      db.pool,
      (client) => jobs.enqueue(SendReceipt, { orderId: 'rolled-back' }, { transaction: client }),
      'ROLLBACK',
    );
    const later = [];
    for (const orderId of ['later-1', 'later-2', 'later-3']) {
      later.push(
        await inTransaction(db.pool, (client) =>
          jobs.enqueue(SendReceipt, { orderId }, { transaction: client }),
        ),
      );
    }
    await until(() => runs.length >= 3, 'the three committed jobs ran');
    await until(async () => (await relay.stats()).eventsBehind === 0, 'the relay caught up');
    expect(runs.map((run) => run.orderId).sort()).toEqual(['later-1', 'later-2', 'later-3']);
    expect(await jobs.get(rolledBack.id)).toBeUndefined();
    // Nothing of it reached the log either.
    expect(await store.streamVersion(`job-default-${rolledBack.id}`)).toBe(0);
    expect((await jobs.inspect()).counts).toMatchObject({ completed: 3, pending: 0, scheduled: 0 });
  });

  it('parks a job for a queue the relay was not given, an unknown job type and a malformed job; later events flow', async () => {
    const { schema, store, jobs, runs, transport, relay } = await setup({ partitions: 1 });
    // Other writers: a queue this relay does not serve, and a newer deploy of "default" that knows one more type.
    const emails = db.track(createJobQueue({ jobs: [SendReceipt], store, queue: 'emails', logger: quiet }));
    const newer = db.track(createJobQueue({ jobs: [SendReceipt, Reindex], store, logger: quiet }));
    await relay.start();

    const forEmails = await inTransaction(db.pool, (client) =>
      emails.enqueue(SendReceipt, { orderId: 'to-emails' }, { transaction: client }),
    );
    await store.append('a', [envelope('t.x', 'a1')]);
    const unknownType = await inTransaction(db.pool, (client) =>
      newer.enqueue(Reindex, { index: 'tasks' }, { transaction: client }),
    );
    const malformed: Envelope = {
      ...envelope(JOB_ENQUEUED_EVENT, 'malformed'),
      data: { queue: 'default', job: { id: 'half-a-job' } },
    };
    await store.append('job-default-half-a-job', [malformed]);
    await store.append('a', [envelope('t.x', 'a2')]);
    const good = await inTransaction(db.pool, (client) =>
      jobs.enqueue(SendReceipt, { orderId: 'good' }, { transaction: client }),
    );

    await until(() => runs.length >= 1 && transport.published.length >= 2, 'the later event and job');
    await until(async () => (await relay.stats()).eventsBehind === 0, 'the relay caught up');
    expect(transport.published.map((message) => labelOf(message.body))).toEqual(['a1', 'a2']);
    expect(runs.map((run) => run.jobId)).toEqual([good.id]);

    const parked = await relay.parked.list();
    const reasons = parked.map((p) => ({ stream: p.stream, name: p.error.name, code: p.error.code }));
    expect(reasons).toEqual([
      { stream: `job-emails-${forEmails.id}`, name: 'UnknownJobQueueError', code: 'INVALID_ENVELOPE' },
      { stream: `job-default-${unknownType.id}`, name: 'UnknownJobError', code: 'UNKNOWN_JOB' },
      { stream: 'job-default-half-a-job', name: 'InvalidEnvelopeError', code: 'INVALID_ENVELOPE' },
    ]);
    expect(parked.map((p) => p.attempts)).toEqual([1, 1, 1]);
    expect(parked[0]?.error.message).toContain('was enqueued on queue "emails"');
    expect(parked[0]?.error.message).toContain('jobQueues: "default"');
    expect(parked[1]?.error.message).toContain('search:reindex');
    expect(await jobs.get(forEmails.id)).toBeUndefined();

    // Given the queue, a relay of the same name hands the parked job over on redrive; the others stay parked.
    const emailRuns: string[] = [];
    emails.work({ [SendReceipt.type]: ({ orderId }) => void emailRuns.push(orderId) });
    await relay.close();
    const served = db.track(
      createOutboxRelay({
        pool: db.pool,
        schema,
        transport,
        jobQueues: [jobs, emails],
        logger: quiet,
      }),
    );
    expect(await served.parked.redrive()).toBe(1);
    await until(() => emailRuns.length >= 1, 'the redriven job ran');
    expect(emailRuns).toEqual(['to-emails']);
    const still = await served.parked.list();
    expect(still.map((p) => [p.stream, p.errors.length])).toEqual([
      [`job-default-${unknownType.id}`, 2],
      ['job-default-half-a-job', 2],
    ]);
  });

  it('mixed batches of events and jobs: each partition delivered in log order, per-key order kept', async () => {
    // One log of what reached the transport and the queue, in the order it got there.
    const delivered: string[] = [];
    const { schema, store, jobs, runs, transport, relay } = await setup({
      partitions: 3,
      relay: { batchSize: 7 },
      queue: (queue) => ({
        name: queue.name,
        async receiveFromOutbox(event) {
          const result = await queue.receiveFromOutbox(event);
          delivered.push(event.id);
          return result;
        },
      }),
    });
    const publish = transport.publish.bind(transport);
    transport.publish = async (messages) => {
      await publish(messages);
      delivered.push(...messages.map((message) => message.id));
    };

    // Each transaction changes a task (its event keyed by the task) and enqueues a job, some enqueue two.
    const writeRound = async (round: number): Promise<void> => {
      for (let task = 0; task < 6; task++) {
        await inTransaction(db.pool, async (client) => {
          await store.append(
            `task-${task}`,
            [envelope('task.changed', `task-${task}-${round}`, { key: `task-${task}` })],
            { transaction: client },
          );
          await jobs.enqueue(SendReceipt, { orderId: `${task}-${round}` }, { transaction: client });
          if (task % 2 === 0) {
            await jobs.enqueue(SendReceipt, { orderId: `${task}-${round}b` }, { transaction: client });
          }
        });
      }
    };
    for (let round = 0; round < 4; round++) await writeRound(round);
    await relay.start();
    for (let round = 4; round < 8; round++) await writeRound(round);

    const total = 8 * (6 + 6 + 3);
    await until(() => new Set(delivered).size >= total, 'every event and job delivered', 20_000);
    await until(() => runs.length >= 8 * 9, 'every job ran', 20_000);
    const { rows } = await db.pool.query<{ event_id: string; partition: number; type: string }>(
      `SELECT event_id, partition, type FROM "${schema}".events ORDER BY epoch, tx_id, id`,
    );
    expect(rows).toHaveLength(total);
    expect(new Set(rows.map((row) => row.type))).toEqual(new Set(['task.changed', JOB_ENQUEUED_EVENT]));
    // Per partition, the first delivery of each event or job follows the log, jobs and events interleaved.
    const firstSeen = [...new Set(delivered)];
    for (let partition = 0; partition < 3; partition++) {
      const inLog = rows.filter((row) => row.partition === partition).map((row) => row.event_id);
      const ids = new Set(inLog);
      expect(firstSeen.filter((id) => ids.has(id))).toEqual(inLog);
    }
    // Per key: task events in stream-version order.
    for (let task = 0; task < 6; task++) {
      const versions = transport
        .events()
        .filter((event) => event.stream === `task-${task}`)
        .map((event) => event.streamVersion);
      expect(versions).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    }
    expect(new Set(runs.map((run) => run.jobId)).size).toBe(runs.length);
    expect((await relay.stats()).parked).toBe(0);
  }, 40_000);

  it.each([
    ['cannot be reached (TRANSPORT_UNAVAILABLE)', unreachableError],
    ['fails every job (any error)', () => new Error("READONLY You can't write against a read only replica.")],
  ])('retries a job backend that %s without end, holding back its partition only', async (_, downError) => {
    const { schema, store, jobs, runs, transport, relay, state } = await guardedSetup(2, downError);
    await relay.start();
    const job = await inTransaction(db.pool, (client) =>
      jobs.enqueue(SendReceipt, { orderId: 'o1' }, { transaction: client }),
    );
    for (let i = 0; i < 10; i++) await store.append(`s${i}`, [envelope('t.x', `s${i}`)]);
    const { rows } = await db.pool.query<{ label: string; behind: boolean }>(
      `SELECT e.envelope::jsonb->'data'->>'label' AS label, e.partition = j.partition AS behind
       FROM "${schema}".events e, "${schema}".events j
       WHERE j.stream = $1 AND e.type = 't.x' ORDER BY e.id`,
      [`job-default-${job.id}`],
    );
    const free = rows.filter((row) => !row.behind).map((row) => row.label);
    const held = rows.filter((row) => row.behind).map((row) => row.label);
    expect(free.length).toBeGreaterThan(0);

    // The other partition flows and the transport accepts it, while the queue refuses far more than
    // retry.attempts times: the job waits (and so do the events behind it), it is never parked.
    await until(() => transport.published.length >= free.length, 'the events of the other partition');
    await until(() => state.refusals >= 10, 'ten refused hand-overs');
    expect(transport.published.map((message) => labelOf(message.body))).toEqual(free);
    expect((await relay.stats()).parked).toBe(0);
    state.down = false;
    await until(
      () => runs.length >= 1 && transport.published.length >= 10,
      'the job and the events after it',
    );
    expect(runs.map((run) => run.jobId)).toEqual([job.id]);
    expect(transport.published.map((message) => labelOf(message.body))).toEqual([...free, ...held]);
    expect((await relay.stats()).parked).toBe(0);
  });

  it('parks a job that keeps failing while its queue accepts others; one whose backend node is unreachable waits', async () => {
    const { schema, jobs, runs, relay, state } = await guardedSetup(4);
    state.down = false;
    await relay.start();
    const enqueue = (orderId: string, fail?: () => Error) =>
      inTransaction(db.pool, async (client) => {
        const enqueued = await jobs.enqueue(SendReceipt, { orderId }, { transaction: client });
        if (fail !== undefined) state.failing.set(enqueued.id, fail);
        return enqueued;
      });
    const bad = await enqueue('bad', () => new Error('this job fails, others pass'));
    const unreachable = await enqueue('unreachable', () => unreachableError());
    const others = [];
    for (let i = 0; i < 8; i++) others.push(await enqueue(`o${i}`));
    // The queue must accept jobs of other partitions meanwhile (10 jobs over 4 partitions: it does).
    const { rows } = await db.pool.query<{ partitions: number }>(
      `SELECT count(DISTINCT partition)::integer AS partitions FROM "${schema}".events`,
    );
    expect(rows[0]?.partitions).toBeGreaterThan(2);

    await until(async () => (await relay.stats()).parked === 1, 'the failing job parked');
    const [parked] = await relay.parked.list();
    // At least retry.attempts: failures before the queue had accepted another job do not count as poison.
    expect(parked?.stream).toBe(`job-default-${bad.id}`);
    expect(parked?.attempts).toBeGreaterThanOrEqual(2);
    expect(parked?.error.message).toBe('this job fails, others pass');
    await until(() => state.refusals >= 10, 'ten refusals of the unreachable one');
    expect((await relay.stats()).parked).toBe(1);
    state.failing.delete(unreachable.id);
    const ran = [unreachable, ...others].map((job) => job.id);
    await until(() => runs.length >= ran.length, 'every other job ran');
    expect(runs.map((run) => run.jobId).sort()).toEqual(ran.sort());
    expect((await relay.stats()).parked).toBe(1);
  });
});

function unreachableError(): Error {
  return new TransportUnavailableError('redis', '127.0.0.1:6379', 'refused the connection');
}

/**
 * A relay whose queue is reached through a guard: while `state.down` it refuses every hand-over with `downError`
 * (by default `TransportUnavailableError`: a Redis job backend that cannot be reached), and it fails each job in
 * `state.failing` with the error made for it. `state.refusals` counts the refusals of either kind.
 */
async function guardedSetup(partitions: number, downError: () => Error = unreachableError) {
  const state = { down: true, refusals: 0, failing: new Map<string, () => Error>() };
  const guarded = (jobs: QueueWithWorker['jobs']): OutboxJobReceiver => ({
    name: jobs.name,
    async receiveFromOutbox(event) {
      const fail = state.down ? downError : state.failing.get((event.data as { job: { id: string } }).job.id);
      if (fail === undefined) return jobs.receiveFromOutbox(event);
      state.refusals += 1;
      throw fail();
    },
  });
  const retry = { attempts: 2, backoff: { initialDelayMs: 10, maxDelayMs: 20 } };
  return { ...(await setup({ partitions, queue: guarded, relay: { retry } })), state };
}

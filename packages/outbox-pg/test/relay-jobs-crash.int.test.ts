import type { JobBackend } from '@relaybus/core';
import { memoryJobBackend } from '@relaybus/core';
import { afterAll, describe, expect, it } from 'vitest';
import { createOutboxRelay, postgresEventStore } from '../src/index';
import { useTestDatabase } from './support/database';
import type { AddReply, AddRequest } from './support/job-relay-child';
import { inTransaction, queueWithWorker, quiet, SendReceipt } from './support/jobs';
import { recordingTransport, until } from './support/recording-transport';
import type { RelayProcess } from './support/relay-process';
import { spawnRelay } from './support/relay-process';

// A relay process SIGKILLed between handing a job to its queue and advancing its checkpoint. The job backend lives
// in this process (the child reaches it over IPC, as it would reach Redis), so the job survives the relay; the
// relay that takes the partition over hands the same job over again, and the backend adds it once, by its id.

const db = useTestDatabase();
const running = new Set<RelayProcess>();
afterAll(async () => {
  await Promise.all([...running].map((relay) => relay.kill()));
});

/** The memory backend, recording the id of every job handed to `add` (whichever process asked). */
function recordingBackend(): { backend: JobBackend; added: string[] } {
  const inner = memoryJobBackend();
  const added: string[] = [];
  const backend = new Proxy(inner, {
    get(target, property) {
      if (property === 'add') {
        return (queue: string, jobs: Parameters<JobBackend['add']>[1]) => {
          added.push(...jobs.map((job) => job.id));
          return target.add(queue, jobs);
        };
      }
      const value: unknown = Reflect.get(target, property);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { backend, added };
}

describe('outbox relay: jobs across a relay crash', () => {
  db.shareHorizonPerTest();

  it('a relay SIGKILLed after handing a job over, before its checkpoint: handed over again, run once', async () => {
    const schema = await db.newSchema({ partitions: 2 });
    const store = db.track(postgresEventStore({ pool: db.pool, schema }));
    const { backend, added } = recordingBackend();
    const { jobs, runs } = queueWithWorker(store, { backend });
    db.track(jobs);

    const child = spawnRelay(
      schema,
      '',
      { RELAY_KILL_AFTER_HANDOVER: '1' },
      { script: 'job-relay-child.ts' },
    );
    running.add(child);
    const ready = new Promise<string>((resolve) => {
      child.child.onMessage((received) => {
        const message = received as AddRequest | { ready: string };
        if ('ready' in message) return resolve(message.ready);
        void backend.add(message.queue, message.jobs).then((outcomes) => {
          child.child.send({ id: message.id, outcomes } satisfies AddReply);
        });
      });
    });
    const childOwner = await ready;

    const job = await inTransaction(db.pool, (client) =>
      jobs.enqueue(SendReceipt, { orderId: 'o1' }, { transaction: client }),
    );
    expect(await child.exited).toBe('SIGKILL');
    expect(added).toEqual([job.id]);
    // Killed before the checkpoint moved: its partition's lease still has the dead relay and no position.
    const { rows } = await db.pool.query<{ owner: string; position: string | null }>(
      `SELECT l.owner, l.position FROM "${schema}".relay_leases l
       JOIN "${schema}".events e ON e.partition = l.partition AND l.relay = 'default'
       WHERE e.stream = $1`,
      [`job-default-${job.id}`],
    );
    expect(rows).toEqual([{ owner: childOwner, position: null }]);
    // The job itself was handed over: the worker runs it while no relay runs.
    await until(async () => (await jobs.get(job.id))?.state === 'completed', 'the job completed');

    const relay = db.track(
      createOutboxRelay({
        pool: db.pool,
        schema,
        transport: recordingTransport(),
        jobQueues: [jobs],
        leaseTtlMs: 1_000,
        logger: quiet,
      }),
    );
    await relay.start();
    await until(async () => (await relay.stats()).eventsBehind === 0, 'the next relay caught up', 20_000);
    expect(added).toEqual([job.id, job.id]);
    expect(runs).toEqual([{ jobId: job.id, queue: 'default', orderId: 'o1' }]);
    expect((await jobs.inspect()).counts).toMatchObject({ completed: 1, pending: 0, active: 0 });
    expect((await relay.stats()).parked).toBe(0);
  }, 40_000);
});

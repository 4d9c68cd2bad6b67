// A relay in its own process, for the job crash test, whose job queue keeps its jobs in the parent process: the
// queue's backend sends `add` over the IPC channel, and the parent adds the jobs to its backend and replies with
// the outcomes. So the jobs outlive this process, as they would in Redis. With RELAY_KILL_AFTER_HANDOVER, the
// process SIGKILLs itself as soon as the parent's backend accepted a job: the relay has handed it over and not yet
// advanced its checkpoint.

import type { JobBackend } from '@relaybus/core';
import { createJobQueue, memoryTransport } from '@relaybus/core';
import type { AddOutcome, NewJob } from '@relaybus/core/transport-kit';
import pg from 'pg';
import { createOutboxRelay } from '../../src/index';
import { testConnection } from './database';
import { quiet, SendReceipt } from './jobs';

/** What the child asks the parent: add these jobs to your backend. */
export interface AddRequest {
  readonly id: number;
  readonly queue: string;
  readonly jobs: ReadonlyArray<NewJob>;
}

/** The parent's answer to an {@link AddRequest}. */
export interface AddReply {
  readonly id: number;
  readonly outcomes: AddOutcome[];
}

const { RELAY_SCHEMA, RELAY_KILL_AFTER_HANDOVER } = process.env;
const send = process.send?.bind(process);
if (!RELAY_SCHEMA || send === undefined) throw new Error('RELAY_SCHEMA and an IPC channel are required');

const waiting = new Map<number, (outcomes: AddOutcome[]) => void>();
process.on('message', (reply: AddReply) => waiting.get(reply.id)?.(reply.outcomes));
let requests = 0;

async function add(queue: string, jobs: ReadonlyArray<NewJob>): Promise<AddOutcome[]> {
  const id = requests++;
  const outcomes = await new Promise<AddOutcome[]>((resolve) => {
    waiting.set(id, resolve);
    send?.({ id, queue, jobs } satisfies AddRequest);
  });
  if (RELAY_KILL_AFTER_HANDOVER !== undefined) process.kill(process.pid, 'SIGKILL');
  return outcomes;
}

// The relay only ever adds; anything else would be a bug in this test.
const backend = new Proxy({} as JobBackend, {
  get(_, property) {
    if (property === 'add') return add;
    if (property === 'name') return 'parent';
    return () => Promise.reject(new Error(`${String(property)} is not served by the parent's backend`));
  },
});

const pool = new pg.Pool({ ...testConnection(), max: 5 });
pool.on('error', () => {});
const jobs = createJobQueue({ jobs: [SendReceipt], backend, logger: quiet });
const relay = createOutboxRelay({
  pool,
  schema: RELAY_SCHEMA,
  transport: memoryTransport(),
  jobQueues: [jobs],
  leaseTtlMs: 1_000,
  logger: quiet,
});
await relay.start();
send({ ready: relay.owner });

import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import type { EventStore } from '../store/event-store';
import { memoryEventStore } from '../store/memory-event-store';
import { createJobQueue } from './create-job-queue';
import { defineJob } from './define-job';
import type { EnqueueResult, JobContext } from './types';

const Recalc = defineJob('tasks:recalc', z.object({ projectId: z.string() }), {
  group: (payload) => payload.projectId,
  unique: { ttlMs: 60_000, key: (payload) => payload.projectId, mode: 'debounce' },
});
const Mail = defineJob('mail:send', z.object({ to: z.string().email(), retries: z.number().default(0) }));
const Unlisted = defineJob('other:job', z.object({ n: z.number() }));
const jobs = createJobQueue({ jobs: [Recalc, Mail] });

describe('job payload types flow from definitions to handlers', () => {
  it('types each handler by its key', () => {
    jobs.work({
      [Recalc.type]: async (payload, ctx) => {
        expectTypeOf(payload).toEqualTypeOf<{ projectId: string }>();
        expectTypeOf(ctx).toEqualTypeOf<JobContext>();
        return { slack: 3 };
      },
      [Mail.type]: (payload) => {
        expectTypeOf(payload.retries).toEqualTypeOf<number>();
      },
    });
  });

  it('refuses a handler for a type outside the catalog', () => {
    // @ts-expect-error "other:job" is not in the queue's catalog
    jobs.work({ [Unlisted.type]: async () => {} });
  });

  it('types enqueue by the definition, with the schema input type', async () => {
    const result = await jobs.enqueue(Mail, { to: 'a@example.com' });
    expectTypeOf(result).toEqualTypeOf<EnqueueResult>();
    // @ts-expect-error projectId must be a string
    await jobs.enqueue(Recalc, { projectId: 1 });
    // @ts-expect-error the definition is not in the catalog
    await jobs.enqueue(Unlisted, { n: 1 });
    // @ts-expect-error a backoff function cannot be stored with the job
    await jobs.enqueue(Recalc, { projectId: 'p' }, { backoff: () => 1 });
    await jobs.enqueueMany([
      { job: Recalc, payload: { projectId: 'p' } },
      { job: Mail, payload: { to: 'b@example.com' }, options: { priority: 'high' } },
    ]);
    // @ts-expect-error the payload does not match the item's job
    await jobs.enqueueMany([{ job: Recalc, payload: { to: 'x' } }]);
  });

  it('types periodic jobs by their definition', () => {
    jobs
      .scheduler()
      .add('nightly', Recalc, { projectId: 'p1' }, { cron: '0 3 * * *', timeZone: 'Europe/Berlin' });
    // @ts-expect-error wrong payload for the schedule's job
    jobs.scheduler().add('nightly', Recalc, { to: 'x' }, { everyMs: 60_000 });
  });
});

describe('enqueue in the caller transaction', () => {
  interface Client {
    query(sql: string): Promise<unknown>;
  }
  const outbox = { ...memoryEventStore(), outbox: true } as EventStore<Client>;
  const client: Client = { query: async () => undefined };

  it('types `transaction` as the store client', async () => {
    const transactional = createJobQueue({ jobs: [Recalc], store: outbox });
    await transactional.enqueue(Recalc, { projectId: 'p' }, { transaction: client });
    // @ts-expect-error not the store's transaction type
    await transactional.enqueue(Recalc, { projectId: 'p' }, { transaction: 'BEGIN' });
    // @ts-expect-error a queue without an outbox store takes no transaction
    await jobs.enqueue(Recalc, { projectId: 'p' }, { transaction: client });
  });
});

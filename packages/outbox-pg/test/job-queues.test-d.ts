import type { OutboxJobReceiver } from '@relaybus/core';
import { createJobQueue, defineJob, memoryTransport } from '@relaybus/core';
import type pg from 'pg';
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import type { OutboxRelayOptions } from '../src/index';
import { createOutboxRelay, postgresEventStore } from '../src/index';

declare const pool: pg.Pool;

const SendReceipt = defineJob('orders:send_receipt', z.object({ orderId: z.string() }));
const Reindex = defineJob('search:reindex', z.object({ index: z.string() }));

describe('the relay takes job queues', () => {
  it('accepts queues of any jobs and any transaction type', () => {
    const store = postgresEventStore({ pool });
    const billing = createJobQueue({ jobs: [SendReceipt], store, queue: 'billing' });
    const search = createJobQueue({ jobs: [Reindex, SendReceipt] });
    expectTypeOf(billing).toMatchTypeOf<OutboxJobReceiver>();
    createOutboxRelay({ pool, transport: memoryTransport(), jobQueues: [billing, search] });
    expectTypeOf<OutboxRelayOptions['jobQueues']>().toEqualTypeOf<
      ReadonlyArray<OutboxJobReceiver> | undefined
    >();
  });

  it('refuses what is not a job queue', () => {
    // @ts-expect-error a job definition is not a queue
    createOutboxRelay({ pool, transport: memoryTransport(), jobQueues: [SendReceipt] });
    // @ts-expect-error the option takes queues, not their names
    createOutboxRelay({ pool, transport: memoryTransport(), jobQueues: ['billing'] });
  });
});

import type { EventBus, Transport } from '@relaybus/core';
import { createEventBus, defineEvent, memoryTransport } from '@relaybus/core';
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { OutboxRelay } from '../src/index';
import { createOutboxRelay, postgresEventStore } from '../src/index';
import { useTestDatabase } from './support/database';
import { until } from './support/recording-transport';

// The set-ups of the README's table, end to end against Postgres: (b) a bus with the Postgres store plus a relay,
// (c) a relay alone, with other code appending and workers that are buses without a store. The transport is the
// memory transport, shared in-process by the relay and every worker (@relaybus/transport-redis is not a
// dependency of this package); it keeps one delivery per group, like any durable transport.

const db = useTestDatabase();

const TaskCompleted = defineEvent('task.completed', z.object({ taskId: z.string(), label: z.string() }), {
  key: (data) => data.taskId,
});

const GROUPS = ['mailer', 'audit'] as const;
const MEMBERS = 2;
const COMMITTED = 40;
/** After the last committed event was handled, how long a rolled-back one gets to show up wrongly. */
const QUIET_MS = 500;

interface Handled {
  readonly group: string;
  readonly member: number;
  readonly label: string;
}

/** Subscribes `MEMBERS` members of each group, spread over `buses`, recording what each handled. */
async function subscribeWorkers(
  buses: ReadonlyArray<EventBus<typeof TaskCompleted, never> | EventBus<typeof TaskCompleted, pg.ClientBase>>,
  handled: Handled[],
): Promise<void> {
  for (const group of GROUPS) {
    for (let member = 0; member < MEMBERS; member++) {
      const bus = buses[member % buses.length];
      if (bus === undefined) throw new Error('no bus');
      await bus.subscribe(
        TaskCompleted,
        (event) => {
          handled.push({ group, member, label: event.data.label });
        },
        { group },
      );
    }
  }
}

/** Each committed label handled exactly once per group (by some member), and the rolled-back one never. */
async function expectExactlyOncePerGroup(
  handled: ReadonlyArray<Handled>,
  relay: OutboxRelay,
  committed: ReadonlyArray<string>,
): Promise<void> {
  await until(
    () => GROUPS.every((group) => handled.filter((h) => h.group === group).length >= committed.length),
    `${committed.length} events handled in each group`,
  );
  await until(async () => (await relay.stats()).eventsBehind === 0, 'the relay caught up');
  await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
  for (const group of GROUPS) {
    const labels = handled.filter((h) => h.group === group).map((h) => h.label);
    expect(labels.length, `${group}: one handling per event`).toBe(committed.length);
    expect([...labels].sort(), `${group}: every committed event`).toEqual([...committed].sort());
    const members = new Set(handled.filter((h) => h.group === group).map((h) => h.member));
    expect(members.size, `${group}: both members shared the work`).toBe(MEMBERS);
  }
  expect(handled.filter((h) => h.label === 'rolled-back')).toEqual([]);
}

/** Runs `work` inside BEGIN on a client of `pool`, then COMMIT or ROLLBACK. */
async function inTransaction(
  pool: pg.Pool,
  end: 'COMMIT' | 'ROLLBACK',
  work: (client: pg.PoolClient) => Promise<unknown>,
): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await work(client);
    await client.query(end);
  } finally {
    client.release();
  }
}

const labelsUpTo = (count: number): string[] => Array.from({ length: count }, (_, i) => `e${i}`);

describe('set-ups', () => {
  db.shareHorizonPerTest();

  it('(b) the bus appends (in the caller’s transaction or its own) and the relay delivers: once per group', async () => {
    const schema = await db.newSchema({ partitions: 4 });
    const transport: Transport = memoryTransport();
    const store = db.track(postgresEventStore({ pool: db.pool, schema }));
    const bus = createEventBus({ events: [TaskCompleted], store, transport });
    const worker = createEventBus({ events: [TaskCompleted], transport });
    db.track({ close: () => Promise.all([bus.close(), worker.close()]).then(() => undefined) });
    const handled: Handled[] = [];
    await subscribeWorkers([bus, worker], handled);
    const relay = db.track(createOutboxRelay({ pool: db.pool, schema, bus }));
    await relay.start();

    const committed = labelsUpTo(COMMITTED);
    const publish = (label: string, transaction?: pg.PoolClient) =>
      bus.publish(
        TaskCompleted,
        { taskId: `t-${label}`, label },
        transaction === undefined ? { subject: `t-${label}` } : { subject: `t-${label}`, transaction },
      );
    for (const label of committed.slice(0, COMMITTED / 2)) {
      await inTransaction(db.pool, 'COMMIT', (client) => publish(label, client));
    }
    await inTransaction(db.pool, 'ROLLBACK', (client) => publish('rolled-back', client));
    for (const label of committed.slice(COMMITTED / 2)) await publish(label);

    await expectExactlyOncePerGroup(handled, relay, committed);
  });

  it('(c) other code appends with store.append({ transaction }); a relay forwards to workers without a store', async () => {
    const schema = await db.newSchema({ partitions: 4 });
    const transport: Transport = memoryTransport();
    const workers = [
      createEventBus({ events: [TaskCompleted], transport }),
      createEventBus({ events: [TaskCompleted], transport }),
    ];
    db.track({ close: () => Promise.all(workers.map((w) => w.close())).then(() => undefined) });
    const handled: Handled[] = [];
    await subscribeWorkers(workers, handled);
    const relay = db.track(createOutboxRelay({ pool: db.pool, schema, transport }));
    await relay.start();

    // The appending side: a store of its own, no bus and no transport.
    const store = db.track(postgresEventStore({ pool: db.pool, schema }));
    const append = (label: string, transaction?: pg.PoolClient) =>
      store.append(
        `task-${label}`,
        [TaskCompleted.create({ taskId: `t-${label}`, label })],
        transaction === undefined ? {} : { transaction },
      );
    const committed = labelsUpTo(COMMITTED);
    for (const label of committed.slice(0, COMMITTED / 2)) {
      await inTransaction(db.pool, 'COMMIT', (client) => append(label, client));
    }
    await inTransaction(db.pool, 'ROLLBACK', (client) => append('rolled-back', client));
    for (const label of committed.slice(COMMITTED / 2)) await append(label);

    await expectExactlyOncePerGroup(handled, relay, committed);
  });
});

import { PGlite } from '@electric-sql/pglite';
import { createEventBus, defineEvent, memoryTransport } from '@relaybus/core';
import { createOutboxRelay, migrate, postgresEventStore } from '@relaybus/outbox-pg';
import { pglitePool } from '@relaybus/outbox-pg/pglite';
import { z } from 'zod';

const TaskCreated = defineEvent('task.created', z.object({ taskId: z.string(), title: z.string() }));

// Embedded Postgres: data in a folder (or in memory without a path), no server to run.
const db = new PGlite(process.env['PGLITE_DIR']);
const pool = pglitePool(db);
await migrate(pool);
await pool.query('CREATE TABLE IF NOT EXISTS tasks (id text PRIMARY KEY, title text NOT NULL)');

const transport = memoryTransport();
const bus = createEventBus({ events: [TaskCreated], transport, store: postgresEventStore({ pool }) });
const relay = createOutboxRelay({ pool, transport });
let delivered!: () => void;
const done = new Promise<void>((resolve) => {
  delivered = resolve;
});
await bus.subscribe(
  TaskCreated,
  (event) => {
    console.log(`created ${event.data.title}`);
    delivered();
  },
  { group: 'mail' },
);
await relay.start();

const client = await pool.connect();
try {
  await client.query('BEGIN');
  await client.query('INSERT INTO tasks (id, title) VALUES ($1, $2)', ['t1', 'Write docs']);
  await bus.publish(TaskCreated, { taskId: 't1', title: 'Write docs' }, { transaction: client });
  await client.query('COMMIT');
} finally {
  client.release();
}

await done; // the relay delivers once the transaction committed
await relay.close();
await bus.close();
await db.close();

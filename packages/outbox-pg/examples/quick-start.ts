// Quick start: a bus whose events go through the Postgres outbox, published inside your own transaction and
// delivered by the relay. Needs DATABASE_URL; RELAYBUS_SCHEMA names the schema to use (default "relaybus").
import { createEventBus, defineEvent } from '@relaybus/core';
import { createOutboxRelay, migrate, postgresEventStore } from '@relaybus/outbox-pg';
import pg from 'pg';
import { z } from 'zod';

const TaskCompleted = defineEvent('task.completed', z.object({ taskId: z.string() }), {
  key: (task) => task.taskId,
});

async function main(): Promise<void> {
  const schema = process.env['RELAYBUS_SCHEMA'] ?? 'relaybus';
  const pool = new pg.Pool({ connectionString: process.env['DATABASE_URL'] });
  // When Postgres restarts, pg reports each idle connection it loses as an 'error' event on the pool, and Node
  // ends the process on an 'error' event nobody listens to. The pool replaces lost connections by itself.
  pool.on('error', (error) => console.warn(`postgres: an idle connection failed: ${error.message}`));

  await migrate(pool, { schema }); // idempotent; safe when several processes start at once
  await pool.query(
    `CREATE TABLE IF NOT EXISTS "${schema}".tasks (id text PRIMARY KEY, done boolean NOT NULL)`,
  );
  await pool.query(`INSERT INTO "${schema}".tasks VALUES ('t1', false) ON CONFLICT (id) DO NOTHING`);

  // The bus appends to the store; the relay (here or in another process) delivers to the bus's transport.
  const store = postgresEventStore({ pool, schema });
  const bus = createEventBus({ events: [TaskCompleted], store });
  const relay = createOutboxRelay({ pool, schema, bus });

  let delivered = (): void => {};
  const handled = new Promise<void>((resolve) => {
    delivered = resolve;
  });
  await bus.subscribe(
    TaskCompleted,
    (event) => {
      console.log(`handled ${event.type} for ${event.data.taskId}`);
      delivered();
    },
    { group: 'mailer' },
  );
  await relay.start();

  // The state change and its event commit together, or not at all.
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`UPDATE "${schema}".tasks SET done = true WHERE id = $1`, ['t1']);
    await bus.publish(TaskCompleted, { taskId: 't1' }, { subject: 't1', transaction: client });
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }

  await handled;
  await relay.close();
  await bus.close();
  await store.close();
  await pool.end();
  console.log('done');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

// Jobs through the outbox: an event and a job written in the same transaction as the order, delivered by the relay
// once it commits, and never when it rolls back. Needs DATABASE_URL; RELAYBUS_SCHEMA names the schema to use
// (default "relaybus").
import { createEventBus, createJobQueue, defineEvent, defineJob } from '@relaybus/core';
import { createOutboxRelay, migrate, postgresEventStore } from '@relaybus/outbox-pg';
import pg from 'pg';
import { z } from 'zod';

const OrderPlaced = defineEvent('order.placed', z.object({ orderId: z.string() }), {
  key: (order) => order.orderId,
});
const SendReceipt = defineJob('orders:send_receipt', z.object({ orderId: z.string() }));

async function main(): Promise<void> {
  const schema = process.env['RELAYBUS_SCHEMA'] ?? 'relaybus';
  const pool = new pg.Pool({ connectionString: process.env['DATABASE_URL'] });
  pool.on('error', (error) => console.warn(`postgres: an idle connection failed: ${error.message}`));
  await migrate(pool, { schema });
  await pool.query(`CREATE TABLE IF NOT EXISTS "${schema}".orders (id text PRIMARY KEY)`);

  // The bus and the queue append to one store; one relay delivers both: events to the bus's transport, jobs to
  // the queue's backend (the memory backend here; a Redis job backend when workers run in other processes).
  const store = postgresEventStore({ pool, schema });
  const bus = createEventBus({ events: [OrderPlaced], store });
  const jobs = createJobQueue({ jobs: [SendReceipt], store });
  const relay = createOutboxRelay({ pool, schema, bus, jobQueues: [jobs] });

  let arrivals = 0;
  let bothArrived = (): void => {};
  const delivered = new Promise<void>((resolve) => {
    bothArrived = resolve;
  });
  const arrived = (line: string): void => {
    console.log(line);
    if (++arrivals === 2) bothArrived();
  };
  jobs.work({ [SendReceipt.type]: ({ orderId }) => arrived(`receipt sent for ${orderId}`) });
  await bus.subscribe(OrderPlaced, (event) => arrived(`order ${event.data.orderId} placed`), {
    group: 'audit',
  });
  await relay.start();

  // The order, its event and its receipt job commit together, or not at all.
  const placeOrder = async (orderId: string, outcome: 'COMMIT' | 'ROLLBACK'): Promise<string> => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`INSERT INTO "${schema}".orders VALUES ($1)`, [orderId]);
      await bus.publish(OrderPlaced, { orderId }, { transaction: client });
      const { id } = await jobs.enqueue(SendReceipt, { orderId }, { transaction: client });
      await client.query(outcome);
      return id;
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    } finally {
      client.release();
    }
  };
  const rolledBack = await placeOrder('o-1', 'ROLLBACK'); // say, the payment failed
  await placeOrder('o-2', 'COMMIT');

  await delivered;
  console.log(`o-1 enqueued: ${(await jobs.get(rolledBack)) !== undefined}`);
  await relay.close(); // first: it hands jobs to the queue
  await jobs.close({ timeoutMs: 5_000 });
  await bus.close();
  await store.close();
  await pool.end();
  console.log('done');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { describeApi } from './api-suite';

// The same API tests on the machine's Postgres, in a database of this run's own.
const host =
  process.env['PGHOST'] && !process.env['PGHOST'].startsWith('/') ? process.env['PGHOST'] : '127.0.0.1';
const server = `postgres://postgres@${host}:${process.env['PGPORT'] ?? 5432}`;
const name = `tm_api_${randomUUID().slice(0, 8)}`;

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: `${server}/postgres` });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

describeApi(
  'Postgres',
  async () => {
    await admin(`CREATE DATABASE ${name}`);
    return { kind: 'postgres', url: `${server}/${name}` };
  },
  () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
);

// A bridge node in a child process, over the Postgres store of RELAY_SCHEMA: prints nothing, sends its port over
// IPC once ready, and runs until killed. Used to SIGKILL a node that holds clients.
import { postgresEventStore } from '@relaybus/outbox-pg';
import pg from 'pg';
import { createWsBridge } from '../../src/index';

const pool = new pg.Pool({
  host: process.env['PGHOST'] && !process.env['PGHOST'].startsWith('/') ? process.env['PGHOST'] : '127.0.0.1',
  port: Number(process.env['PGPORT'] || 5432),
  user: process.env['PGUSER'] || 'postgres',
  database: process.env['PGDATABASE'] || 'test',
  max: 4,
});
pool.on('error', () => {});
const store = postgresEventStore({ pool, schema: process.env['RELAY_SCHEMA'] as string });
const bridge = createWsBridge({
  store,
  port: 0,
  heartbeatMs: 200,
  authenticate: ({ token }) => (token ? { id: token } : null),
});
await bridge.ready;
process.send?.({ port: bridge.address().port });

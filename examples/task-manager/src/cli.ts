// task-manager commands: `replay analytics` rebuilds the analytics projection from the event log, printing progress
// to stderr and the result (as `GET /api/v1/analytics` computes it live) as JSON to stdout. It reads DATABASE_URL, or
// the PGlite folder DATA_DIR (default data/pg): PGlite is single-process, so stop the app first.
import { postgresEventStore } from '@relaybus/outbox-pg';
import { analyticsView, rebuildAnalytics } from './analytics/analytics';
import { openDatabase, RELAYBUS_SCHEMA } from './db/database';

const [command, what] = process.argv.slice(2);
if (command !== 'replay' || what !== 'analytics') {
  console.error('usage: task-manager replay analytics');
  process.exit(2);
}
const url = process.env['DATABASE_URL'] || undefined;
const database = await openDatabase(
  url === undefined
    ? { kind: 'pglite', dataDir: process.env['DATA_DIR'] ?? 'data/pg' }
    : { kind: 'postgres', url },
);
try {
  const store = postgresEventStore({ pool: database.pool, schema: RELAYBUS_SCHEMA });
  const model = await rebuildAnalytics(store, (progress) => {
    process.stderr.write(
      `replay analytics: ${progress.events} events, ${Math.round(progress.eventsPerSecond)}/s${progress.done ? ', done' : ''}\n`,
    );
  });
  await store.close();
  process.stdout.write(`${JSON.stringify(analyticsView(model))}\n`);
} finally {
  await database.close();
}

// Starts the task manager as separate processes on this machine's Postgres and Redis: one relay, one job worker,
// two event workers and one API (PORT, default 3000). DATABASE_URL (default postgres://postgres@127.0.0.1:5432/task_manager,
// created if missing) and REDIS_URL (default redis://127.0.0.1:6379). Ctrl-C or SIGTERM stops them all gracefully.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const databaseUrl = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/task_manager';
const target = new URL(databaseUrl);
const admin = new pg.Client({
  connectionString: Object.assign(new URL(databaseUrl), { pathname: '/postgres' }).href,
});
await admin.connect();
const name = target.pathname.slice(1);
const { rows } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
if (rows.length === 0) await admin.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
await admin.end();

const env = {
  ...process.env,
  DATABASE_URL: databaseUrl,
  RELAYBUS_TRANSPORT: 'redis',
  REDIS_URL: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379',
  AUTH_SECRET: process.env['AUTH_SECRET'] ?? 'local-multi-process-secret',
};
const main = fileURLToPath(new URL('./main.ts', import.meta.url));
const children: ChildProcess[] = [];
const start = (roles: string, label: string): void => {
  const child = spawn(process.execPath, ['--conditions=@relaybus/source', '--import', 'tsx', main], {
    env: { ...env, ROLES: roles },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const prefix = (chunk: Buffer) =>
    chunk
      .toString('utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => `[${label}] ${line}\n`)
      .join('');
  child.stdout?.on('data', (chunk: Buffer) => process.stdout.write(prefix(chunk)));
  child.stderr?.on('data', (chunk: Buffer) => process.stderr.write(prefix(chunk)));
  child.on('exit', (code, signal) => process.stdout.write(`[${label}] exited (${signal ?? code})\n`));
  children.push(child);
};
start('relay', 'relay');
start('job-worker', 'job-worker');
start('event-worker', 'event-worker-1');
start('event-worker', 'event-worker-2');
start('api', 'api');

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const child of children) child.kill('SIGTERM');
  });
}
await Promise.all(children.map((child) => new Promise((resolve) => child.once('exit', resolve))));

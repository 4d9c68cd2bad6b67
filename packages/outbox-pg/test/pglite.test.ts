import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import { createEventBus, defineEvent, memoryTransport } from '@relaybus/core';
import { describeEventStoreConformance } from '@relaybus/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createOutboxRelay, migrate, postgresEventStore } from '../src/index';
import { pglitePool } from '../src/pglite/index';
import { readmeHasSnippet } from './support/examples';

// One embedded database for the file; every test works in its own schema, as on a real server.
// Starting PGlite compiles its WASM build: seconds of CPU, more on a loaded machine.
const db = new PGlite();
const pool = pglitePool(db);
beforeAll(() => db.waitReady, 120_000);
afterAll(() => db.close());

describeEventStoreConformance(
  'postgres on PGlite',
  async ({ namespace }) => {
    await migrate(pool, { schema: namespace });
    return postgresEventStore({ pool, schema: namespace });
  },
  { timeoutScale: 2 },
);

const TaskCreated = defineEvent('task.created', z.object({ taskId: z.string(), title: z.string() }));

describe('pglitePool', () => {
  it('runs the outbox: events committed in the caller’s transaction reach a subscriber through the relay, rolled back ones never', async () => {
    const schema = 'outbox_pglite';
    await migrate(pool, { schema });
    await pool.query(`CREATE TABLE ${schema}.tasks (id text PRIMARY KEY, title text NOT NULL)`);
    const store = postgresEventStore({ pool, schema });
    const transport = memoryTransport();
    const relay = createOutboxRelay({ pool, schema, transport, name: 'embedded' });
    const bus = createEventBus({ events: [TaskCreated], transport, store });
    const seen: string[] = [];
    await bus.subscribe(TaskCreated, (event) => void seen.push(event.data.taskId), { group: 'mail' });
    await relay.start();

    for (const [taskId, commit] of [
      ['t1', true],
      ['t2', false],
      ['t3', true],
    ] as const) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await client.query(`INSERT INTO ${schema}.tasks (id, title) VALUES ($1, $2)`, [taskId, 'Write docs']);
        await bus.publish(TaskCreated, { taskId, title: 'Write docs' }, { transaction: client });
        await client.query(commit ? 'COMMIT' : 'ROLLBACK');
      } finally {
        client.release();
      }
    }
    await expect.poll(() => seen, { timeout: 10_000 }).toEqual(['t1', 't3']);
    const { rows } = await pool.query(`SELECT id FROM ${schema}.tasks ORDER BY id`);
    expect(rows).toEqual([{ id: 't1' }, { id: 't3' }]);
    await relay.close();
    await bus.close();
  }, 60_000);

  it('serialises: a statement waits while a client holds the session, then runs', async () => {
    const client = await pool.connect();
    await client.query('BEGIN');
    await client.query('CREATE TEMP TABLE held (n int)');
    let done = false;
    const waiting = pool.query('SELECT 1 AS one').then((result) => {
      done = true;
      return result.rows;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(done).toBe(false);
    await client.query('COMMIT');
    client.release();
    expect(await waiting).toEqual([{ one: 1 }]);
  });

  it('returns int8 as pg does (a string) and keeps SQLSTATE codes on errors', async () => {
    const { rows } = await pool.query('SELECT 9007199254740993::int8 AS big');
    expect(rows).toEqual([{ big: '9007199254740993' }]);
    await expect(pool.query('SELECT * FROM no_such_table')).rejects.toMatchObject({ code: '42P01' });
  });
});

describe('the README PGlite example', () => {
  it('is the example file, word for word, and runs as written with its data in a folder', async () => {
    expect(readmeHasSnippet('pglite.ts')).toBe(true);
    const dir = await mkdtemp(join(tmpdir(), 'relaybus-pglite-'));
    try {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['--conditions=@relaybus/source', '--import', 'tsx', 'examples/pglite.ts'],
        {
          cwd: fileURLToPath(new URL('../', import.meta.url)),
          env: { ...process.env, PGLITE_DIR: join(dir, 'pg') },
          timeout: 110_000,
        },
      );
      expect(stdout).toBe('created Write docs\n');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { testConnection, uniqueSchemaName, useTestDatabase } from './support/database';

const run = promisify(execFile);
const packageDir = fileURLToPath(new URL('../', import.meta.url));
const db = useTestDatabase();

describe('the README quick start', () => {
  it('is the example file, word for word', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const example = readFileSync(new URL('../examples/quick-start.ts', import.meta.url), 'utf8');
    expect(readme).toContain(`<!-- snippet: examples/quick-start.ts -->\n\`\`\`ts\n${example}\`\`\`\n`);
  });

  it('runs as written: migrates, publishes in a transaction, delivers through the relay, shuts down', async () => {
    const schema = uniqueSchemaName('rb_quick');
    db.trackSchema(schema);
    const { host, port, user, database } = testConnection();
    const { stdout } = await run(
      process.execPath,
      ['--conditions=@relaybus/source', '--import', 'tsx', 'examples/quick-start.ts'],
      {
        cwd: packageDir,
        timeout: 30_000,
        env: {
          ...process.env,
          DATABASE_URL: `postgres://${user}@${host}:${port}/${database}`,
          RELAYBUS_SCHEMA: schema,
        },
      },
    );
    expect(stdout.split('\n')).toEqual(['handled task.completed for t1', 'done', '']);
    const { rows } = await db.pool.query(
      `SELECT t.done, (SELECT count(*)::integer FROM "${schema}".events) AS events FROM "${schema}".tasks t`,
    );
    expect(rows).toEqual([{ done: true, events: 1 }]);
  }, 40_000);
});

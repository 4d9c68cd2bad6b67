import { describe, expect, it } from 'vitest';
import { uniqueSchemaName, useTestDatabase } from './support/database';
import { readmeHasSnippet, runExample } from './support/examples';

const db = useTestDatabase();

describe('the README quick start', () => {
  it('is the example file, word for word', () => {
    expect(readmeHasSnippet('quick-start.ts')).toBe(true);
  });

  it('runs as written: migrates, publishes in a transaction, delivers through the relay, shuts down', async () => {
    const schema = uniqueSchemaName('rb_quick');
    db.trackSchema(schema);
    const stdout = await runExample('quick-start.ts', schema);
    expect(stdout.split('\n')).toEqual(['handled task.completed for t1', 'done', '']);
    const { rows } = await db.pool.query(
      `SELECT t.done, (SELECT count(*)::integer FROM "${schema}".events) AS events FROM "${schema}".tasks t`,
    );
    expect(rows).toEqual([{ done: true, events: 1 }]);
  }, 40_000);
});

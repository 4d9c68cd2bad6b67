import { JOB_ENQUEUED_EVENT } from '@relaybus/core';
import { describe, expect, it } from 'vitest';
import { uniqueSchemaName, useTestDatabase } from './support/database';
import { readmeHasSnippet, runExample } from './support/examples';

const db = useTestDatabase();

describe('the README example of jobs through the outbox', () => {
  it('is the example file, word for word', () => {
    expect(readmeHasSnippet('outbox-jobs.ts')).toBe(true);
  });

  it('runs as written: the committed order gets its event and its job, the rolled-back one neither', async () => {
    const schema = uniqueSchemaName('rb_jobs');
    db.trackSchema(schema);
    const lines = (await runExample('outbox-jobs.ts', schema)).split('\n');
    // The event and the job take separate paths (transport, job queue), so either may arrive first.
    expect(lines.slice(0, 2).sort()).toEqual(['order o-2 placed', 'receipt sent for o-2']);
    expect(lines.slice(2)).toEqual(['o-1 enqueued: false', 'done', '']);
    const { rows } = await db.pool.query(
      `SELECT (SELECT array_agg(id) FROM "${schema}".orders) AS orders,
         (SELECT array_agg(type ORDER BY type COLLATE "C") FROM "${schema}".events) AS events`,
    );
    expect(rows).toEqual([{ orders: ['o-2'], events: ['order.placed', JOB_ENQUEUED_EVENT] }]);
  }, 40_000);
});

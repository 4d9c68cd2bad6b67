import { uuidv7 } from '@relaybus/core';
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { postgresEventStore } from '../src/index';
import { useTestDatabase } from './support/database';

const db = useTestDatabase();

interface PlanNode {
  readonly 'Node Type': string;
  readonly 'Index Name'?: string;
  readonly Plans?: ReadonlyArray<PlanNode>;
}

const nodesOf = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(nodesOf)];
const summary = (nodes: ReadonlyArray<PlanNode>): string[] =>
  nodes.map((node) => `${node['Node Type']}${node['Index Name'] ? ` on ${node['Index Name']}` : ''}`);

/**
 * Loads a log the way the issue describes it: 50,000 events appended through the store in 500 transactions, 1 in
 * 50 of a rare type, and no ANALYZE, so the table has no statistics at all.
 */
async function freshLog(schema: string): Promise<void> {
  const store = postgresEventStore({ pool: db.pool, schema, visibilityWaitMs: 0, notify: false });
  try {
    for (let tx = 0; tx < 500; tx++) {
      await store.append(
        `stream-${tx}`,
        Array.from({ length: 100 }, (_, i) => ({
          id: uuidv7(),
          type: i % 50 === 7 ? 'task.rare' : 'task.common',
          version: 1,
          time: new Date().toISOString(),
          source: 'outbox-pg/test',
          key: `task-${i}`,
          metadata: {},
          data: { label: `${tx}.${i}` },
        })),
      );
    }
  } finally {
    await store.close();
  }
}

/**
 * The plans Postgres actually ran for the statements inside `read_page()`, captured with auto_explain (nested
 * statements, reported as notices to this session): EXPLAIN of the call itself shows only a function scan.
 */
async function plansInside(client: pg.PoolClient, call: () => Promise<unknown>): Promise<string[][]> {
  const plans: string[][] = [];
  const onNotice = (notice: { message?: string | undefined }): void => {
    const json = notice.message?.replace(/^duration: [\d.]+ ms\s+plan:\s*/, '') ?? '';
    if (!json.startsWith('{')) return;
    const explained = JSON.parse(json) as { 'Query Text': string; Plan: PlanNode };
    if (!explained['Query Text'].includes('read_page(')) plans.push(summary(nodesOf(explained.Plan)));
  };
  client.on('notice', onNotice);
  try {
    await call();
  } finally {
    client.off('notice', onNotice);
  }
  return plans;
}

describe('the global read plan does not depend on statistics', () => {
  it('on a freshly loaded, never analyzed log, every page is an ordered index range scan with no sort', async () => {
    const schema = await db.newSchema();
    await freshLog(schema);
    const client = await db.client();
    const { rows } = await client.query<{ analyzed: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM pg_stats WHERE schemaname = $1 AND tablename = 'events') AS analyzed`,
      [schema],
    );
    expect(rows[0]?.analyzed, 'the log has no statistics').toBe(false);
    await client.query("LOAD 'auto_explain'");
    await client.query(
      'SET auto_explain.log_min_duration = 0; SET auto_explain.log_nested_statements = on; ' +
        'SET auto_explain.log_level = notice; SET auto_explain.log_format = json; SET auto_explain.log_analyze = off',
    );
    // Reading from the first transaction on: most of the log lies ahead, as for a replay.
    const read = (types: string[] | null) =>
      client.query(`SELECT * FROM "${schema}".read_page(1, '0'::xid8, 0, 1000, 1, $1::text[])`, [types]);

    const [all, ...restAll] = await plansInside(client, () => read(null));
    expect(restAll).toEqual([]);
    expect(all).toEqual(['Limit', 'Index Scan on events_pkey']);

    const [rare, rareHead] = await plansInside(client, () => read(['task.rare']));
    expect(rare, 'one type reads its own index, in global order').toEqual([
      'Limit',
      'Index Scan on events_type_order',
    ]);
    expect(rareHead).not.toContainEqual(expect.stringMatching(/Sort|Seq Scan|Bitmap/));

    const [several, severalHead] = await plansInside(client, () => read(['task.common', 'task.rare']));
    expect(several).toEqual(['Limit', 'Index Scan on events_pkey']);
    expect(severalHead).not.toContainEqual(expect.stringMatching(/Sort|Seq Scan|Bitmap/));
  }, 60_000);

  it('stale statistics (analyzed while nearly empty, then loaded) give the same plans', async () => {
    const schema = await db.newSchema();
    const store = db.track(postgresEventStore({ pool: db.pool, schema, visibilityWaitMs: 0 }));
    await store.append('early', [
      {
        id: uuidv7(),
        type: 'task.common',
        version: 1,
        time: new Date().toISOString(),
        source: 's',
        metadata: {},
        data: {},
      },
    ]);
    await db.pool.query(`ANALYZE "${schema}".events`);
    await freshLog(schema);
    const client = await db.client();
    await client.query("LOAD 'auto_explain'");
    await client.query(
      'SET auto_explain.log_min_duration = 0; SET auto_explain.log_nested_statements = on; ' +
        'SET auto_explain.log_level = notice; SET auto_explain.log_format = json',
    );
    const { rows } = await client.query<{ tx_id: string; id: string }>(
      `SELECT tx_id::text, id::text FROM "${schema}".events ORDER BY epoch, tx_id, id OFFSET 25000 LIMIT 1`,
    );
    const [middle] = await plansInside(client, () =>
      client.query(`SELECT * FROM "${schema}".read_page(1, $1::xid8, $2::bigint, 5000, 1, NULL)`, [
        rows[0]?.tx_id,
        rows[0]?.id,
      ]),
    );
    expect(middle).toEqual(['Limit', 'Index Scan on events_pkey']);
  }, 60_000);
});

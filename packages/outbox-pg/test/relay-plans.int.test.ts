import { describe, expect, it } from 'vitest';
import { tablesOf } from '../src/identifiers';
import { relayStatements } from '../src/relay/relay-statements';
import { useTestDatabase } from './support/database';

const db = useTestDatabase();

interface PlanNode {
  readonly 'Node Type': string;
  readonly 'Index Name'?: string;
  readonly Plans?: ReadonlyArray<PlanNode>;
}

const nodesOf = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(nodesOf)];

async function fillSchema(analyze = true): Promise<{ schema: string; txId: string; id: string }> {
  const schema = await db.newSchema();
  for (let tx = 0; tx < 100; tx++) {
    await db.pool.query(
      `INSERT INTO "${schema}".events (epoch, event_id, stream, stream_version, type, version, key, partition, envelope)
       SELECT 1, gen_random_uuid()::text, $1, g, 'task.common', 1, 'task-' || (g % 1000), g % 16,
         jsonb_build_object('id', gen_random_uuid()::text)
       FROM generate_series(1, 250) g`,
      [`stream-${tx}`],
    );
  }
  if (analyze) await db.pool.query(`ANALYZE "${schema}".events`);
  const { rows } = await db.pool.query<{ tx_id: string; id: string }>(
    `SELECT tx_id::text, id::text FROM "${schema}".events ORDER BY epoch, tx_id, id LIMIT 1`,
  );
  return { schema, txId: rows[0]?.tx_id ?? '0', id: rows[0]?.id ?? '0' };
}

async function planOf(text: string, values: ReadonlyArray<unknown>): Promise<string[]> {
  const { rows: plan } = await db.pool.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(
    `EXPLAIN (FORMAT JSON) ${text}`,
    [...values],
  );
  const root = plan[0]?.['QUERY PLAN'][0]?.Plan;
  if (root === undefined) throw new Error('no plan');
  return nodesOf(root).map((n) => `${n['Node Type']}${n['Index Name'] ? ` on ${n['Index Name']}` : ''}`);
}

describe.each([
  ['analyzed', true],
  ['never analyzed', false],
])('the relay poll on a %s log', (_, analyze) => {
  it('the one-partition statement scans (partition, epoch, tx_id, id) in order, with no sort', async () => {
    const { schema, txId, id } = await fillSchema(analyze);
    const { readCurrent } = relayStatements(tablesOf(schema));
    const summary = await planOf(readCurrent.text, [1, txId, id, 100, 3]);
    expect(summary).not.toContainEqual(expect.stringMatching(/Sort|Seq Scan|Bitmap/));
    expect(summary, JSON.stringify(summary)).toContain('Index Scan on events_partition_order');
  });

  it('the all-partitions statement scans the same index once per partition, with no sort', async () => {
    const { schema, txId, id } = await fillSchema(analyze);
    const { readMany } = relayStatements(tablesOf(schema));
    const partitions = Array.from({ length: 16 }, (_, p) => p);
    const summary = await planOf(readMany.text, [
      1,
      partitions,
      partitions.map(() => txId),
      partitions.map(() => id),
      100,
    ]);
    expect(summary).not.toContainEqual(expect.stringMatching(/Sort|Seq Scan|Bitmap/));
    expect(summary, JSON.stringify(summary)).toContain('Nested Loop');
    expect(summary, JSON.stringify(summary)).toContain('Index Scan on events_partition_order');
  });
});

import { describe, expect, it } from 'vitest';
import { tablesOf } from '../src/identifiers';
import { storeStatements } from '../src/sql/store-statements';
import { useTestDatabase } from './support/database';

const db = useTestDatabase();

interface PlanNode {
  readonly 'Node Type': string;
  readonly 'Index Name'?: string;
  readonly Plans?: ReadonlyArray<PlanNode>;
}

function nodesOf(node: PlanNode): PlanNode[] {
  return [node, ...(node.Plans ?? []).flatMap(nodesOf)];
}

/** The plan of `text` with `values`, as the node types and index names of every node. */
async function planOf(text: string, values: unknown[]): Promise<PlanNode[]> {
  const { rows } = await db.pool.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(
    `EXPLAIN (FORMAT JSON) ${text}`,
    values,
  );
  const plan = rows[0]?.['QUERY PLAN'][0]?.Plan;
  if (plan === undefined) throw new Error('no plan');
  return nodesOf(plan);
}

function summary(nodes: ReadonlyArray<PlanNode>): string[] {
  return nodes.map((node) => `${node['Node Type']}${node['Index Name'] ? ` on ${node['Index Name']}` : ''}`);
}

describe('the polling queries use an index range scan', () => {
  it('readPage and the relay’s per-partition poll scan an index in order, with no sort', async () => {
    const schema = await db.newSchema();
    // A log of 50,000 events written by 200 transactions, as the store writes them (one stream per transaction),
    // 1 in 50 of a rare type, keys spread over the 16 partitions.
    for (let tx = 0; tx < 200; tx++) {
      await db.pool.query(
        `INSERT INTO "${schema}".events (epoch, event_id, stream, stream_version, type, version, key, partition, envelope)
         SELECT 1, gen_random_uuid()::text, $1, g, CASE WHEN g % 50 = 7 THEN 'task.rare' ELSE 'task.common' END, 1,
           'task-' || (g % 1000), g % 16, jsonb_build_object('label', $1 || '.' || g)
         FROM generate_series(1, 250) g`,
        [`stream-${tx}`],
      );
    }
    await db.pool.query(`ANALYZE "${schema}".events`);
    // Reading from the first transaction on: most of the log lies ahead, as for a reader catching up.
    const { rows } = await db.pool.query<{ tx_id: string; id: string }>(
      `SELECT tx_id::text, id::text FROM "${schema}".events ORDER BY epoch, tx_id, id LIMIT 1`,
    );
    const { page: statements } = storeStatements(tablesOf(schema));
    const after = [1, rows[0]?.tx_id, rows[0]?.id, 100];

    const page = await planOf(statements['current:all'].text, after);
    expect(summary(page)).not.toContainEqual(expect.stringMatching(/Sort/));
    expect(summary(page)).toContain('Index Scan on events_pkey');

    const rare = await planOf(statements['current:one'].text, [...after, 'task.rare']);
    expect(summary(rare)).not.toContainEqual(expect.stringMatching(/Sort/));
    expect(summary(rare), 'a rare type is read through its own index').toContain(
      'Index Scan on events_type_order',
    );

    const several = await planOf(statements['current:many'].text, [...after, ['task.common', 'task.rare']]);
    expect(summary(several)).not.toContainEqual(expect.stringMatching(/Sort/));
    expect(summary(several)).toContain('Index Scan on events_pkey');

    // The relay reads one partition at a time, in global order, below the same horizon.
    const relayPoll = `SELECT e.epoch, e.tx_id::text, e.id::text, e.envelope::text FROM "${schema}".events e
      WHERE e.partition = $5 AND e.epoch = $1::integer AND (e.tx_id, e.id) > ($2::xid8, $3::bigint)
        AND e.tx_id < pg_snapshot_xmin(pg_current_snapshot())
      ORDER BY e.epoch, e.tx_id, e.id LIMIT $4`;
    const relay = await planOf(relayPoll, [...after, 2]);
    expect(summary(relay)).not.toContainEqual(expect.stringMatching(/Sort/));
    expect(summary(relay)).toContain('Index Scan on events_partition_order');
  });
});

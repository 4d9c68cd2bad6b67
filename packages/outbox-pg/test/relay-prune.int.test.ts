import { describe, expect, it } from 'vitest';
import { createOutboxRelay, postgresEventStore, pruneEvents } from '../src/index';
import { useTestDatabase } from './support/database';
import { envelope } from './support/events';
import { recordingTransport, until } from './support/recording-transport';

const db = useTestDatabase();

describe('pruneEvents', () => {
  db.shareHorizonPerTest();

  it('deletes only events every partition of the relay has passed, in batches', async () => {
    const schema = await db.newSchema({ partitions: 4 });
    const store = db.track(postgresEventStore({ pool: db.pool, schema }));
    for (let s = 0; s < 10; s++) {
      await store.append(`s${s}`, [envelope('p.x', `s${s}-1`), envelope('p.x', `s${s}-2`)]);
    }
    const transport = recordingTransport();
    const relay = createOutboxRelay({ pool: db.pool, schema, transport });
    await relay.start();
    await until(() => transport.published.length === 20, 'all published');
    await relay.close();
    await store.append('late', [envelope('p.x', 'late-1')]);

    expect(await pruneEvents({ pool: db.pool, schema, relay, olderThanMs: 3_600_000 })).toBe(0);
    expect(await pruneEvents({ pool: db.pool, schema, relay: 'default', batchSize: 3 })).toBe(20);
    const { rows } = await db.pool.query(`SELECT stream FROM "${schema}".events`);
    expect(rows).toEqual([{ stream: 'late' }]);
    // Stream versions survive pruning.
    expect(await store.streamVersion('s0')).toBe(2);
  });
});

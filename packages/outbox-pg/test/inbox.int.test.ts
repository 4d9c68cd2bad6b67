import { describe, expect, it } from 'vitest';
import { createInbox } from '../src/index';
import { useTestDatabase } from './support/database';

const db = useTestDatabase();

describe('inbox', () => {
  it('runs the handler once per consumer and message, committing the effect with the marker', async () => {
    const schema = await db.newSchema();
    await db.pool.query(`CREATE TABLE "${schema}".effects (message_id text NOT NULL)`);
    const inbox = createInbox({ pool: db.pool, schema });
    const apply = (id: string) =>
      inbox.handle('projector', { id }, async (client) => {
        await client.query(`INSERT INTO "${schema}".effects VALUES ($1)`, [id]);
        return 'done';
      });
    expect(await apply('m1')).toEqual({ duplicate: false, result: 'done' });
    expect(await apply('m1')).toEqual({ duplicate: true });
    // Concurrent redeliveries: the marker's row lock makes all but one see a duplicate.
    const outcomes = await Promise.all([apply('m2'), apply('m2'), apply('m2')]);
    expect(outcomes.filter((o) => !o.duplicate)).toHaveLength(1);
    // Another consumer processes the same message on its own.
    const other = await inbox.handle('mailer', { id: 'm1' }, async () => 1);
    expect(other.duplicate).toBe(false);
    const { rows } = await db.pool.query(
      `SELECT message_id, count(*)::int AS n FROM "${schema}".effects GROUP BY 1 ORDER BY 1`,
    );
    expect(rows).toEqual([
      { message_id: 'm1', n: 1 },
      { message_id: 'm2', n: 1 },
    ]);
  });

  it('forgets the marker when the handler fails, so a redelivery runs it again', async () => {
    const schema = await db.newSchema();
    const inbox = createInbox({ pool: db.pool, schema });
    await expect(
      inbox.handle('c', { id: 'm' }, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await inbox.handle('c', { id: 'm' }, async () => 'again')).toEqual({
      duplicate: false,
      result: 'again',
    });
  });

  it('handleOnce works inside the caller transaction; the caller rollback undoes both', async () => {
    const schema = await db.newSchema();
    const inbox = createInbox({ pool: db.pool, schema });
    const client = await db.client();
    await client.query('BEGIN');
    expect((await inbox.handleOnce(client, 'c', 'x', async () => 1)).duplicate).toBe(false);
    expect((await inbox.handleOnce(client, 'c', 'x', async () => 1)).duplicate).toBe(true);
    await client.query('ROLLBACK');
    expect((await inbox.handle('c', { id: 'x' }, async () => 2)).duplicate).toBe(false);
  });

  it('prunes old markers in batches', async () => {
    const schema = await db.newSchema();
    const inbox = createInbox({ pool: db.pool, schema });
    await db.pool.query(
      `INSERT INTO "${schema}".inbox (consumer, message_id, processed_at)
       SELECT 'c', 'old-' || g, now() - interval '2 days' FROM generate_series(1, 25) g`,
    );
    await inbox.handle('c', { id: 'fresh' }, async () => undefined);
    expect(await inbox.prune({ olderThanMs: 86_400_000, batchSize: 10 })).toBe(25);
    const { rows } = await db.pool.query(`SELECT message_id FROM "${schema}".inbox`);
    expect(rows).toEqual([{ message_id: 'fresh' }]);
  });
});

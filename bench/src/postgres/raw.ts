import type { Transport, TransportMessage } from '@relaybus/core';
import type { Pool } from 'pg';

/** A hand-rolled outbox table, as an application would make one: identity, event id, stream, type, jsonb body. */
export function rawTableDdl(table: string): string {
  return `CREATE TABLE ${table} (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id text NOT NULL UNIQUE,
    stream text NOT NULL,
    type text NOT NULL,
    payload jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
  )`;
}

/** One row to insert: the same envelope JSON relaybus stores. */
export interface RawRow {
  readonly eventId: string;
  readonly stream: string;
  readonly type: string;
  readonly json: string;
}

/** Plain `INSERT` of one row, one statement = one transaction (autocommit). */
export async function rawInsertOne(pool: Pool, table: string, row: RawRow): Promise<void> {
  await pool.query(`INSERT INTO ${table} (event_id, stream, type, payload) VALUES ($1, $2, $3, $4)`, [
    row.eventId,
    row.stream,
    row.type,
    row.json,
  ]);
}

/** `BEGIN; INSERT; COMMIT` on one connection: the shape of an append inside an application's transaction. */
export async function rawInsertOneInTransaction(pool: Pool, table: string, row: RawRow): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`INSERT INTO ${table} (event_id, stream, type, payload) VALUES ($1, $2, $3, $4)`, [
      row.eventId,
      row.stream,
      row.type,
      row.json,
    ]);
    await client.query('COMMIT');
  } finally {
    client.release();
  }
}

/** A multi-row `INSERT ... VALUES (...), (...)` of the rows, one statement = one transaction. */
export async function rawInsertMany(pool: Pool, table: string, rows: ReadonlyArray<RawRow>): Promise<void> {
  const values: string[] = [];
  const params: string[] = [];
  for (const row of rows) {
    const n = params.length;
    values.push(`($${n + 1}, $${n + 2}, $${n + 3}, $${n + 4})`);
    params.push(row.eventId, row.stream, row.type, row.json);
  }
  await pool.query(
    `INSERT INTO ${table} (event_id, stream, type, payload) VALUES ${values.join(', ')}`,
    params,
  );
}

interface OutboxRow {
  readonly row_id: string;
  readonly event_id: string;
  readonly stream: string;
  readonly type: string;
  readonly payload: unknown;
}

/**
 * The usual hand-rolled outbox relay, one worker: in a transaction, take the next batch with
 * `FOR UPDATE SKIP LOCKED`, publish it, delete it, commit. Returns when the table is empty. With `keyset`, the
 * worker also starts after the last id it took (`id > $last`), so the index scan does not walk over the rows
 * deleted before (dead index entries until VACUUM): right for one worker only.
 */
export async function rawSkipLockedWorker(
  pool: Pool,
  table: string,
  batchSize: number,
  transport: Transport,
  keyset = false,
): Promise<void> {
  const client = await pool.connect();
  let last = '0';
  try {
    for (;;) {
      await client.query('BEGIN');
      try {
        const { rows } = await client.query<OutboxRow>(
          `SELECT id::text AS row_id, event_id, stream, type, payload FROM ${table}
           WHERE id > $2::bigint ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
          [batchSize, keyset ? last : '0'],
        );
        if (rows.length === 0) {
          await client.query('COMMIT');
          return;
        }
        const messages: TransportMessage[] = rows.map((row) => ({
          id: row.event_id,
          topic: row.type,
          key: row.stream,
          body: row.payload,
        }));
        await transport.publish(messages);
        last = rows[rows.length - 1]?.row_id ?? last;
        await client.query(`DELETE FROM ${table} WHERE id = ANY($1::bigint[])`, [
          rows.map((row) => row.row_id),
        ]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      }
    }
  } finally {
    client.release();
  }
}

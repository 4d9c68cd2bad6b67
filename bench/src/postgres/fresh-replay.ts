import { replay } from '@relaybus/core';
import { migrate, postgresEventStore } from '@relaybus/outbox-pg';
import pg from 'pg';
import { BenchEvent, payload } from '../core/bench-event';
import { collectGarbage } from '../lib/gc';

const EVENTS = 50_000;
const PER_TRANSACTION = 100;
const RUNS = 3;

/** What `freshReplay` measured: replay throughput, median of the runs, and each run. */
export interface FreshReplayFigures {
  readonly median: number;
  readonly runs: ReadonlyArray<number>;
}

/**
 * `replay()` right after a load, before any `ANALYZE`: 50,000 events appended in 500 transactions of 100 (the
 * store's own appends, one stream per transaction), then replayed into a no-op handler 3 times with the default
 * batch size. This is when users replay (after an import, a migration, a burst), and when the planner has no
 * statistics for the table. Autovacuum may analyze the table meanwhile on a server where it runs; the runs are
 * back to back to leave it little time.
 */
export async function freshReplay(
  url: string,
  schema: string,
  log: (message: string) => void,
): Promise<FreshReplayFigures> {
  const pool = new pg.Pool({ connectionString: url, max: 8 });
  try {
    await migrate(pool, { schema });
    const store = postgresEventStore({ pool, schema, visibilityWaitMs: 0 });
    log(`postgres/replay: loading ${EVENTS.toLocaleString('en-US')} events into a fresh table`);
    let sequence = 0;
    for (let tx = 0; tx < EVENTS / PER_TRANSACTION; tx++) {
      await store.append(
        `fresh-${tx}`,
        Array.from({ length: PER_TRANSACTION }, () => BenchEvent.create(payload(sequence++))),
      );
    }
    const runs: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      collectGarbage();
      const started = performance.now();
      const result = await replay(store, { handle: () => {} });
      if (result.events !== EVENTS) throw new Error(`fresh replay saw ${result.events} events`);
      runs.push(result.events / ((performance.now() - started) / 1_000));
    }
    await store.close();
    const sorted = [...runs].sort((a, b) => a - b);
    return { median: sorted[Math.floor(sorted.length / 2)] ?? 0, runs };
  } finally {
    await pool.end();
  }
}

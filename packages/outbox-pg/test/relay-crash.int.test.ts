import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createInbox, createOutboxRelay, postgresEventStore } from '../src/index';
import { useTestDatabase } from './support/database';
import { envelope } from './support/events';
import { recordingTransport, until } from './support/recording-transport';
import { published, spawnRelay } from './support/relay-process';

const db = useTestDatabase();
const dir = mkdtempSync(join(tmpdir(), 'relay-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('outbox relay: crash', () => {
  db.shareHorizonPerTest();

  it('a relay killed with SIGKILL mid-run is taken over: every event at least once, effects exactly once', async () => {
    const schema = await db.newSchema({ partitions: 4 });
    const store = db.track(postgresEventStore({ pool: db.pool, schema }));
    for (let stream = 0; stream < 20; stream++) {
      await store.append(
        `s${stream}`,
        Array.from({ length: 20 }, (_, i) => envelope('crash.happened', `s${stream}-${i + 1}`)),
      );
    }
    const file = join(dir, 'published.jsonl');
    const child = spawnRelay(schema, file);
    await until(() => published(file).length >= 60, 'the child to publish 60 events', 20_000);
    await child.kill();
    expect(await child.exited).toBe('SIGKILL');
    const beforeKill = published(file);
    expect(beforeKill.length).toBeLessThan(400);

    const transport = recordingTransport();
    const relay = db.track(createOutboxRelay({ pool: db.pool, schema, transport, leaseTtlMs: 1_000 }));
    await relay.start();
    const all = new Set<string>();
    await until(
      () => {
        for (const m of [...published(file), ...transport.published]) all.add(m.id);
        return all.size >= 400;
      },
      'every event from one relay or the other',
      20_000,
    );

    // Consumers see both relays' output (redeliveries included); the inbox turns it into exactly-once effects.
    await db.pool.query(`CREATE TABLE "${schema}".effects (event_id text NOT NULL)`);
    const inbox = createInbox({ pool: db.pool, schema });
    const deliveries = [...published(file).map((m) => m.body), ...transport.events()];
    for (const event of deliveries) {
      await inbox.handle('effects', event, (client) =>
        client.query(`INSERT INTO "${schema}".effects VALUES ($1)`, [event.id]),
      );
    }
    const { rows } = await db.pool.query<{ total: number; distinct: number }>(
      `SELECT count(*)::int AS total, count(DISTINCT event_id)::int AS distinct FROM "${schema}".effects`,
    );
    expect(rows[0]).toEqual({ total: 400, distinct: 400 });
    // Per stream, the takeover relay resumed in version order.
    for (let stream = 0; stream < 20; stream++) {
      const versions = transport
        .events()
        .filter((e) => e.stream === `s${stream}`)
        .map((e) => e.streamVersion);
      expect(versions).toEqual([...versions].sort((a, b) => a - b));
    }
  }, 45_000);
});

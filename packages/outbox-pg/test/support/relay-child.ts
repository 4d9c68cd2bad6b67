// A relay in its own process, for the crash tests: publishes to a file (one JSON line per message, written before
// publish resolves) so the parent sees what it published before it was killed. With RELAY_KILL_ON, publishing a
// batch that holds an event with that label kills the process (SIGKILL) before anything of it is written: an
// event that crashes every relay publishing it.
import { appendFileSync } from 'node:fs';
import type { Transport } from '@relaybus/core';
import { memoryTransport } from '@relaybus/core';
import pg from 'pg';
import { createOutboxRelay } from '../../src/index';
import { testConnection } from './database';

const { RELAY_SCHEMA, RELAY_FILE, RELAY_KILL_ON } = process.env;
if (!RELAY_SCHEMA || !RELAY_FILE) throw new Error('RELAY_SCHEMA and RELAY_FILE are required');
const file = RELAY_FILE;
const labelOf = (body: unknown): unknown => (body as { data?: { label?: unknown } }).data?.label;

const inner = memoryTransport();
const transport: Transport = {
  ...inner,
  subscribe: inner.subscribe.bind(inner),
  close: inner.close.bind(inner),
  async publish(messages) {
    if (RELAY_KILL_ON !== undefined && messages.some((m) => labelOf(m.body) === RELAY_KILL_ON)) {
      process.kill(process.pid, 'SIGKILL');
    }
    // Slow enough that the kill lands mid-run.
    await new Promise((resolve) => setTimeout(resolve, 20));
    appendFileSync(file, messages.map((m) => `${JSON.stringify({ id: m.id, body: m.body })}\n`).join(''));
  },
};

const pool = new pg.Pool({ ...testConnection(), max: 5 });
pool.on('error', () => {});
const relay = createOutboxRelay({ pool, schema: RELAY_SCHEMA, transport, leaseTtlMs: 1_000, batchSize: 20 });
await relay.start();
process.stdout.write(`ready ${relay.owner}\n`);

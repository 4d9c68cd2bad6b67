// A relay in its own process, for the crash test: publishes to a file (one JSON line per message, written before
// publish resolves) so the parent sees what it published before it was killed.
import { appendFileSync } from 'node:fs';
import type { Transport } from '@relaybus/core';
import { memoryTransport } from '@relaybus/core';
import pg from 'pg';
import { createOutboxRelay } from '../../src/index';
import { testConnection } from './database';

const { RELAY_SCHEMA, RELAY_FILE } = process.env;
if (!RELAY_SCHEMA || !RELAY_FILE) throw new Error('RELAY_SCHEMA and RELAY_FILE are required');
const file = RELAY_FILE;

const inner = memoryTransport();
const transport: Transport = {
  ...inner,
  subscribe: inner.subscribe.bind(inner),
  close: inner.close.bind(inner),
  async publish(messages) {
    // Slow enough that the kill lands mid-run.
    await new Promise((resolve) => setTimeout(resolve, 20));
    appendFileSync(file, messages.map((m) => `${JSON.stringify({ id: m.id, body: m.body })}\n`).join(''));
  },
};

const pool = new pg.Pool({ ...testConnection(), max: 5 });
const relay = createOutboxRelay({ pool, schema: RELAY_SCHEMA, transport, leaseMs: 1_000, batchSize: 20 });
await relay.start();
process.stdout.write('ready\n');

import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { besideModule, runExample } from '@relaybus/test-support';
import { expect, it } from 'vitest';
import { NATS_URL, uniquePrefix, useCleanup } from './support/nats';

const EXAMPLE = besideModule(import.meta.url, '../examples/quick-start.ts');
const cleanup = useCleanup();

// That the README shows this file as it is, `pnpm lint` checks (scripts/check-snippets.mjs).
it('the README quick start runs as written: it handles the event it publishes, then exits', async () => {
  const prefix = cleanup(uniquePrefix('quickstart'));
  const { exit, output } = await runExample(EXAMPLE, { NATS_URL, RELAYBUS_PREFIX: prefix });
  expect(exit, output).toEqual({ code: 0, signal: null });
  expect(output).toContain('subscription active');
  expect(output).toContain('mailing about task t-1');
  // It ran on the prefix it was given, and acked what it handled.
  const nc = await connect({ servers: NATS_URL });
  try {
    const jsm = await jetstreamManager(nc);
    expect((await jsm.streams.info(prefix)).state.messages).toBe(1);
    let pending = 0;
    for await (const consumer of jsm.consumers.list(prefix))
      pending += consumer.num_ack_pending + consumer.num_pending;
    expect(pending).toBe(0);
  } finally {
    await nc.close();
  }
}, 40_000);

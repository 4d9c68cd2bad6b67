import { besideModule, runExample } from '@relaybus/test-support';
import { expect, it } from 'vitest';
import { useRedis } from './redis-fixture';

const EXAMPLE = besideModule(import.meta.url, '../examples/quick-start.ts');
const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const { redis, prefix } = useRedis('quick-start');

// That the README shows this file as it is, `pnpm lint` checks (scripts/check-snippets.mjs).
it('the README quick start runs as written: it handles the event it publishes, then exits', async () => {
  const keyPrefix = prefix();
  const { exit, output } = await runExample(EXAMPLE, { REDIS_URL, RELAYBUS_PREFIX: keyPrefix });
  expect(exit, output).toEqual({ code: 0, signal: null });
  expect(output).toContain('subscription active');
  expect(output).toContain('mailing about task t-1');
  // It ran on the prefix it was given, and acked what it handled.
  const streams = await redis.keys(`${keyPrefix}:{task.created}:s:*`);
  let entries = 0;
  let pending = 0;
  for (const stream of streams) {
    entries += await redis.xlen(stream);
    pending += ((await redis.xpending(stream, 'mailer')) as [number])[0];
  }
  expect(entries).toBe(1);
  expect(pending).toBe(0);
}, 40_000);

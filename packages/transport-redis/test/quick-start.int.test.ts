import { expect, it } from 'vitest';
import { useRedis } from './redis-fixture';
import { besideModule, startTsProcess } from './support/ts-process';

const EXAMPLE = besideModule(import.meta.url, '../examples/quick-start.ts');
const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const { redis, prefix } = useRedis('quick-start');

// That the README shows this file as it is, `pnpm lint` checks (scripts/check-snippets.mjs).
it('the README quick start runs as written: it handles the event it publishes, then exits', async () => {
  const keyPrefix = prefix();
  const child = startTsProcess(EXAMPLE, { env: { REDIS_URL, RELAYBUS_PREFIX: keyPrefix } });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const exit = await Promise.race([
    child.exited,
    new Promise<'still running'>((resolve) => {
      timer = setTimeout(() => resolve('still running'), 30_000);
    }),
  ]).finally(() => clearTimeout(timer));
  if (exit === 'still running') await child.kill('SIGKILL');
  expect(exit, child.output()).toEqual({ code: 0, signal: null });
  expect(child.output()).toContain('subscription active');
  expect(child.output()).toContain('mailing about task t-1');
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

import { besideModule, runExample } from '@relaybus/test-support';
import { expect, it } from 'vitest';
import { useRedis } from './redis-fixture';

const EXAMPLE = besideModule(import.meta.url, '../examples/jobs.ts');
const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const { redis, prefix } = useRedis('jobs-example');

// That the README shows this file as it is, `pnpm lint` checks (scripts/check-snippets.mjs).
it('the README jobs example runs as written: it runs the job it enqueues, keeps its result, then exits', async () => {
  const keyPrefix = prefix();
  const { exit, output } = await runExample(EXAMPLE, { REDIS_URL, RELAYBUS_PREFIX: keyPrefix });
  expect(exit, output).toEqual({ code: 0, signal: null });
  expect(output).toContain('recalculating p1, attempt 1');
  expect(output).toContain('job completed: {"projectId":"p1","tasks":42}');
  // The job is kept, completed with its result, under the transport's prefix.
  const base = `${keyPrefix}:j:{default}`;
  expect(await redis.zcard(`${base}:s:completed`)).toBe(1);
  expect(await redis.zcard(`${base}:s:active`)).toBe(0);
}, 40_000);

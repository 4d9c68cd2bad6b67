import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

describe('memory under slow clients', () => {
  it('the heap stays flat while 10% of clients stop reading: they are closed, the others get every event', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        '--expose-gc',
        '--import',
        'tsx',
        '--conditions=@relaybus/source',
        fileURLToPath(new URL('./support/heap-child.ts', import.meta.url)),
      ],
      { timeout: 60_000 },
    );
    const result = JSON.parse(stdout.trim().split('\n').at(-1) as string) as Record<string, number>;
    expect(result['received']).toBe(result['expected']);
    expect(result['slowConsumers']).toBe(10);
    expect(result['connections']).toBe(90);
    // 12 MB of events streamed to 90 clients (over a gigabyte of frames); the stalled 10 would hold 12 MB each
    // without bounds. What remains beyond the store's own copy of the events is noise.
    expect(result['grownWithoutStore']).toBeLessThan(8 * 1024 * 1024);
  }, 90_000);
});

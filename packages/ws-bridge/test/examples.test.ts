import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const packageDir = fileURLToPath(new URL('../', import.meta.url));

/** Runs an example as a user would, in its own process; workspace packages resolve to their sources. */
async function runExample(file: string): Promise<string> {
  const { stdout } = await run(
    process.execPath,
    ['--conditions=@relaybus/source', '--import', 'tsx', `examples/${file}`],
    { cwd: packageDir, timeout: 20_000 },
  );
  return stdout;
}

describe('the examples the README shows', () => {
  it('quick-start.ts delivers a published event to the client, then closes everything and exits', async () => {
    expect((await runExample('quick-start.ts')).trim()).toBe('received task.created t1');
  });
});

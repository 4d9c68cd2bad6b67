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
  it('quick-start.ts handles the event in its group and audits both events', async () => {
    const lines = (await runExample('quick-start.ts')).trim().split('\n');
    expect(lines).toEqual([
      'mail: new task "Write docs"',
      'audit: task.created t1',
      'audit: task.completed t1',
    ]);
  });

  it('deploy-groups.ts delivers an event published before the worker started to the declared group', async () => {
    const lines = (await runExample('deploy-groups.ts')).trim().split('\n');
    // The mail may be sent before or after the state is printed: delivery starts as soon as it is registered.
    expect(lines.sort()).toEqual(['welcome mail to ada@example.com', 'welcome-mail subscription: active']);
  });

  it('jobs.ts debounces five enqueues into one run and reads its result', async () => {
    expect((await runExample('jobs.ts')).trim()).toBe(
      'completed 1, result {"projectId":"p1","criticalTasks":4}',
    );
  });

  it('kit-consumer.ts retries a failed delivery before the next one of its key, then closes', async () => {
    expect((await runExample('kit-consumer.ts')).trim().split('\n')).toEqual([
      'a#1 b#1 b#2 c#1',
      'acked 1,2,3',
    ]);
  });
});

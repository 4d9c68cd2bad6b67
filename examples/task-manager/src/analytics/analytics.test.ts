import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it, vi } from 'vitest';
import { startApp } from '../app';
import { signIn } from '../test-support';

describe('analytics', () => {
  it('`task-manager replay analytics` rebuilds from the log exactly what the live worker computed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'task-manager-analytics-'));
    const dataDir = join(dir, 'pg');
    try {
      const app = await startApp({ port: 0, database: { kind: 'pglite', dataDir } });
      let live: Awaited<ReturnType<typeof app.analytics>>;
      try {
        const ada = await signIn(app);
        const grace = await signIn(app, 'grace@example.com');
        for (const [who, title] of [
          [ada, 'One'],
          [grace, 'Two'],
          [ada, 'Three'],
        ] as const) {
          const response = await who('/api/v1/tasks', {
            method: 'POST',
            body: JSON.stringify({ projectId: 'p1', title }),
          });
          const task = (await response.json()) as { id: string };
          if (title !== 'Three') {
            await who(`/api/v1/tasks/${task.id}`, {
              method: 'PATCH',
              body: JSON.stringify({ status: 'completed' }),
              headers: { 'if-match': '"1"' },
            });
          }
        }
        await vi.waitFor(async () => expect((await app.analytics()).byProject['p1']?.completed).toBe(2), {
          timeout: 10_000,
          interval: 100,
        });
        live = await app.analytics();
        const mine = (await (await ada('/api/v1/analytics')).json()) as { you: { created: number } };
        expect(mine.you.created).toBe(live.byUser['u-ada']?.created);
      } finally {
        await app.close();
      }
      const { stdout, stderr } = await promisify(execFile)(
        process.execPath,
        ['--conditions=@relaybus/source', '--import', 'tsx', 'src/cli.ts', 'replay', 'analytics'],
        {
          cwd: fileURLToPath(new URL('../../', import.meta.url)),
          env: { ...process.env, DATA_DIR: dataDir, DATABASE_URL: '' },
          timeout: 110_000,
        },
      );
      expect(stderr).toMatch(/replay analytics: \d+ events, \d+\/s, done/);
      expect(JSON.parse(stdout)).toEqual(live);
      expect(live.byProject['p1']).toMatchObject({ created: 7, completed: 2 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 180_000);
});

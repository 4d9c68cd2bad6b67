import { afterEach, describe, expect, it, vi } from 'vitest';
import { startApp } from './app';

let app: Awaited<ReturnType<typeof startApp>> | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

describe('task manager (embedded)', () => {
  it('creates and completes tasks, and the workers see the events', async () => {
    app = await startApp({ port: 0 });
    const created = await fetch(`${app.url}/api/v1/tasks`, {
      method: 'POST',
      body: JSON.stringify({ projectId: 'p1', title: 'Ship it', assignee: 'ada' }),
    });
    expect(created.status).toBe(201);
    const task = (await created.json()) as { id: string };
    expect((await fetch(`${app.url}/api/v1/tasks/${task.id}/complete`, { method: 'POST' })).status).toBe(200);
    await vi.waitFor(async () => {
      const stats = await (await fetch(`${app?.url}/api/v1/stats`)).json();
      expect(stats).toEqual({
        analytics: { created: 1, completed: 1 },
        notifications: ['New task "Ship it" for ada'],
      });
    });
  });

  it('answers 400 with the validation issue for an invalid task', async () => {
    app = await startApp({ port: 0 });
    const response = await fetch(`${app.url}/api/v1/tasks`, {
      method: 'POST',
      body: JSON.stringify({ projectId: 'p1' }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      code: 'VALIDATION_FAILED',
      error: expect.stringContaining('title'),
    });
  });
});

import { silentLogger } from '@relaybus/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startApp } from './app';
import { createTransport, type TransportKind, transportConfigFromEnv, uniquePrefix } from './infra/transport';
import { signIn } from './test-support';

let app: Awaited<ReturnType<typeof startApp>> | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

// The same flow as the embedded app's test, on each broker the app can be pointed at with RELAYBUS_TRANSPORT.
describe.each(['redis', 'amqp', 'nats'] satisfies TransportKind[])('task manager on %s', (kind) => {
  it('creates and completes tasks, and the workers see the events', async () => {
    const config = transportConfigFromEnv({
      ...process.env,
      RELAYBUS_TRANSPORT: kind,
      RELAYBUS_PREFIX: uniquePrefix('tm'),
    });
    app = await startApp({ port: 0, transport: await createTransport(config, silentLogger) });
    const ada = await signIn(app);
    const created = await ada('/api/v1/tasks', {
      method: 'POST',
      body: JSON.stringify({ projectId: 'p1', title: 'Ship it', assigneeId: 'u-grace' }),
    });
    expect(created.status).toBe(201);
    const task = (await created.json()) as { id: string };
    const done = await ada(`/api/v1/tasks/${task.id}`, {
      method: 'PATCH',
      body: JSON.stringify({ status: 'completed' }),
      headers: { 'if-match': '"1"' },
    });
    expect(done.status).toBe(200);
    await vi.waitFor(
      async () => {
        const stats = (await (await ada('/api/v1/stats')).json()) as {
          analytics: { completed: number };
          notifications: string[];
        };
        expect(stats.analytics.completed).toBe(1);
        expect(stats.notifications).toContain('u-grace: New task for you: "Ship it"');
      },
      { timeout: 15_000, interval: 100 },
    );
  }, 120_000);
});

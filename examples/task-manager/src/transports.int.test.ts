import { silentLogger } from '@relaybus/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startApp } from './app';
import { createTransport, type TransportKind, transportConfigFromEnv, uniquePrefix } from './infra/transport';

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
    const created = await fetch(`${app.url}/api/v1/tasks`, {
      method: 'POST',
      body: JSON.stringify({ projectId: 'p1', title: 'Ship it', assignee: 'ada' }),
    });
    expect(created.status).toBe(201);
    const task = (await created.json()) as { id: string };
    expect((await fetch(`${app.url}/api/v1/tasks/${task.id}/complete`, { method: 'POST' })).status).toBe(200);
    await vi.waitFor(
      async () => {
        const stats = await (await fetch(`${app?.url}/api/v1/stats`)).json();
        expect(stats).toEqual({
          analytics: { created: 1, completed: 1 },
          notifications: ['New task "Ship it" for ada'],
        });
      },
      { timeout: 15_000, interval: 100 },
    );
  }, 30_000);
});

import type { EventOf } from '@relaybus/core';
import { createBridgeClient } from '@relaybus/ws-bridge/client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { signNotion } from './api/notion-webhook';
import { type AppOptions, startApp } from './app';
import type { catalog } from './domain/events';
import { signIn } from './test-support';

const NOTION_SECRET = 'notion-test-secret';

/**
 * The API's tests, run on PGlite (`app.test.ts`) and on a Postgres server (`app-postgres.int.test.ts`): the same
 * SQL, the same answers.
 */
export function describeApi(
  name: string,
  database: () => Promise<NonNullable<AppOptions['database']>>,
  cleanup: () => Promise<void> = async () => {},
): void {
  let app: Awaited<ReturnType<typeof startApp>>;
  let ada: Awaited<ReturnType<typeof signIn>>;
  beforeAll(async () => {
    app = await startApp({ port: 0, notionSecret: NOTION_SECRET, database: await database() });
    ada = await signIn(app);
  }, 120_000);
  afterAll(async () => {
    await app?.close();
    await cleanup();
  });

  const post = (body: unknown) => ({ method: 'POST', body: JSON.stringify(body) });

  describe(`task manager API on ${name}`, () => {
    it('refuses requests without a valid token', async () => {
      expect((await fetch(`${app.url}/api/v1/projects`)).status).toBe(401);
      const bad = await fetch(
        `${app.url}/api/v1/auth/login`,
        post({ email: 'ada@example.com', password: 'nope' }),
      );
      expect(bad.status).toBe(401);
    });

    it('creates a task, edits it with If-Match, refuses a stale edit with 412, and the workers see the events', async () => {
      const created = await ada(
        '/api/v1/tasks',
        post({ projectId: 'p1', title: 'Ship it', assigneeId: 'u-grace' }),
      );
      expect(created.status).toBe(201);
      expect(created.headers.get('etag')).toBe('"1"');
      const task = (await created.json()) as { id: string };
      const patch = (etag: string | undefined, body: unknown) =>
        ada(`/api/v1/tasks/${task.id}`, {
          method: 'PATCH',
          body: JSON.stringify(body),
          headers: etag === undefined ? {} : { 'if-match': etag },
        });
      expect((await patch(undefined, { status: 'completed' })).status).toBe(428);
      const done = await patch('"1"', { status: 'completed' });
      expect(done.status).toBe(200);
      expect(done.headers.get('etag')).toBe('"2"');
      const stale = await patch('"1"', { title: 'Lost update' });
      expect(stale.status).toBe(412);
      expect(await stale.json()).toMatchObject({ code: 'STALE_VERSION', expected: 1, current: 2 });
      await vi.waitFor(
        async () => {
          const stats = (await (await ada('/api/v1/stats')).json()) as {
            analytics: { created: number; completed: number };
            notifications: string[];
          };
          expect(stats.analytics.completed).toBe(1);
          expect(stats.notifications).toContain('u-grace: New task for you: "Ship it"');
          expect(stats.notifications).toContain('u-grace: "Ship it" is completed');
        },
        { timeout: 10_000, interval: 100 },
      );
    });

    it('answers 400 listing every invalid field', async () => {
      const response = await ada('/api/v1/tasks', post({ projectId: 'p1', title: '', durationDays: -1 }));
      expect(response.status).toBe(400);
      const body = (await response.json()) as { code: string; issues: Array<{ path: string }> };
      expect(body.code).toBe('VALIDATION_FAILED');
      expect(body.issues.map((issue) => issue.path).sort()).toEqual(['durationDays', 'title']);
    });

    it('answers 409 naming the cycle a dependency would close', async () => {
      const page = (await (await ada('/api/v1/projects/p1/tasks?limit=200')).json()) as {
        items: Array<{ id: string; title: string; dependsOn: string[] }>;
      };
      const launch = page.items.find((task) => task.title === 'Launch');
      const design = page.items.find((task) => task.title === 'Design the landing page');
      if (launch === undefined || design === undefined) throw new Error('demo data missing');
      const response = await ada(`/api/v1/tasks/${design.id}/dependencies/${launch.id}`, { method: 'PUT' });
      expect(response.status).toBe(409);
      const body = (await response.json()) as { cycle: string[] };
      expect(body.cycle[0]).toBe(body.cycle[body.cycle.length - 1]);
      expect(body.cycle).toContain(launch.id);
    });

    it('shows a user only their projects: 404 for the others', async () => {
      const projects = (await (await ada('/api/v1/projects')).json()) as { items: Array<{ id: string }> };
      expect(projects.items.map((project) => project.id)).toEqual(['p1']);
      expect((await ada('/api/v1/projects/p2/tasks')).status).toBe(404);
    });

    it('serves its OpenAPI document, health and readiness', async () => {
      const document = (await (await fetch(`${app.url}/api/v1/openapi.json`)).json()) as {
        paths: Record<string, unknown>;
      };
      expect(Object.keys(document.paths)).toContain('/api/v1/tasks/{taskId}');
      expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
      const metrics = await (await fetch(`${app.url}/metrics`)).text();
      expect(metrics).toMatch(/^task_manager_\w+/m);
      expect(metrics).toContain('task_manager_outbox_lag_events 0');
      expect(metrics).toMatch(/task_manager_jobs_completed_total\{queue="task-manager"/);
      expect((await fetch(`${app.url}/readyz`)).status).toBe(200);
    });

    it('moving an end date reschedules the dependents transitively and recalculates the critical path', async () => {
      type Item = {
        id: string;
        title: string;
        startDate: string;
        endDate: string;
        isCritical: boolean;
        version: number;
      };
      const load = async () => {
        const page = (await (await ada('/api/v1/projects/p1/tasks?limit=200')).json()) as { items: Item[] };
        return new Map(page.items.map((task) => [task.title, task]));
      };
      await vi.waitFor(async () => expect((await load()).get('Launch')?.isCritical).toBe(true), {
        timeout: 10_000,
        interval: 100,
      });
      const design = (await load()).get('Design the landing page') as Item;
      const moved = await ada(`/api/v1/tasks/${design.id}`, {
        method: 'PATCH',
        body: JSON.stringify({ endDate: '2027-01-20', durationDays: 13 }),
        headers: { 'if-match': `"${design.version}"` },
      });
      expect(moved.status).toBe(200);
      await vi.waitFor(
        async () => {
          const tasks = await load();
          expect(tasks.get('Build the landing page')).toMatchObject({
            startDate: '2027-01-21',
            endDate: '2027-01-25',
          });
          expect(tasks.get('Launch')).toMatchObject({ startDate: '2027-01-26', endDate: '2027-01-26' });
          expect(tasks.get('Write the launch post')).toMatchObject({
            startDate: '2027-01-11',
            isCritical: false,
          });
          expect(tasks.get('Design the landing page')?.isCritical).toBe(true);
        },
        { timeout: 15_000, interval: 100 },
      );
    });

    it('verifies the Notion webhook (signature, window, replay) and applies a valid page to its task', async () => {
      const created = await ada('/api/v1/tasks', post({ projectId: 'p1', title: 'Synced from Notion' }));
      const task = (await created.json()) as { id: string };
      const body = JSON.stringify({
        pageId: 'page-1',
        taskId: task.id,
        properties: { Name: 'Renamed in Notion', Status: 'In progress', Priority: 'High' },
      });
      const now = String(Math.floor(Date.now() / 1000));
      const send = (headers: Record<string, string>, payload = body) =>
        fetch(`${app.url}/api/v1/webhooks/notion`, { method: 'POST', body: payload, headers });
      const signed = (timestamp: string, payload = body) => ({
        'x-notion-timestamp': timestamp,
        'x-notion-signature': signNotion(NOTION_SECRET, timestamp, payload),
      });
      expect((await send({})).status).toBe(401);
      expect(
        (await send({ ...signed(now), 'x-notion-signature': signNotion('wrong', now, body) })).status,
      ).toBe(401);
      const old = String(Number(now) - 3_600);
      expect((await send(signed(old))).status).toBe(401);
      expect((await send(signed(now), body.replace('High', 'Low'))).status).toBe(401); // body changed after signing
      const accepted = await send(signed(now));
      expect(accepted.status).toBe(202);
      expect((await send(signed(now))).status).toBe(401); // the same delivery again
      await vi.waitFor(
        async () => {
          const current = (await (await ada(`/api/v1/tasks/${task.id}`)).json()) as Record<string, unknown>;
          expect(current).toMatchObject({
            title: 'Renamed in Notion',
            status: 'in_progress',
            priority: 'high',
          });
        },
        { timeout: 10_000, interval: 100 },
      );
      const audit = (await (await ada(`/api/audit?subject=${task.id}`)).json()) as {
        items: Array<{ type: string }>;
      };
      expect(audit.items.map((item) => item.type)).toEqual([
        'task.created',
        'webhook.notion_received',
        'task.properties_updated',
      ]);
    });

    it('keeps an audit trail per task and per project, only for members', async () => {
      const trail = (await (await ada('/api/audit?subject=p1')).json()) as { items: Array<{ type: string }> };
      expect(trail.items.length).toBeGreaterThan(5);
      expect(trail.items[0]?.type).toBe('task.created');
      expect((await ada('/api/audit?subject=p2')).status).toBe(404);
    });

    it('streams each user only the events of their projects over the WebSocket bridge', async () => {
      const grace = await signIn(app, 'grace@example.com');
      const login = await fetch(`${app.url}/api/v1/auth/login`, {
        method: 'POST',
        body: JSON.stringify({ email: 'ada@example.com', password: 'demo' }),
      });
      const adaToken = ((await login.json()) as { token: string }).token;
      const seen: string[] = [];
      const client = createBridgeClient<EventOf<(typeof catalog)[number]>>({
        url: `${app.url.replace('http', 'ws')}/relaybus`,
        token: adaToken,
        WebSocket,
      });
      const sub = client.subscribe({ types: ['task.created'] }, (event) => void seen.push(event.data.title));
      await sub.ready;
      await grace('/api/v1/tasks', post({ projectId: 'p2', title: 'Only Grace sees this' }));
      await grace('/api/v1/tasks', post({ projectId: 'p1', title: 'Both see this' }));
      await vi.waitFor(() => expect(seen).toContain('Both see this'), { timeout: 10_000, interval: 50 });
      expect(seen).not.toContain('Only Grace sees this');
      client.close();
    });
  });
}

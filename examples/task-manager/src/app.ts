import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createEventBus,
  createJobQueue,
  type Logger,
  memoryTransport,
  metrics,
  silentLogger,
  type Transport,
} from '@relaybus/core';
import { createInbox, createOutboxRelay, postgresEventStore } from '@relaybus/outbox-pg';
import { createWsBridge, type WsBridge } from '@relaybus/ws-bridge';
import {
  type Analytics,
  analyticsView,
  applyAnalytics,
  emptyAnalytics,
  rebuildAnalytics,
} from './analytics/analytics';
import { verifyToken } from './api/auth';
import { createApi } from './api/routes';
import { type DatabaseConfig, openDatabase, RELAYBUS_SCHEMA } from './db/database';
import { catalog } from './domain/events';
import { type AppBus, TaskService } from './domain/task-service';
import { type SchedulingQueue, schedulingHandlers, schedulingJobs } from './jobs/scheduling';
import { type EmailSender, logEmailSender, logSmsSender, type SmsSender } from './notifications/senders';
import { NOTIFIED_EVENTS, notificationHandler } from './notifications/worker';
import { seedDemo } from './seed';
import { PAGE_HTML, pageScript } from './web/server';

/**
 * The parts of the task manager, each runnable in its own processes: `api` (HTTP, the page, the WebSocket bridge),
 * `event-worker` (notifications, analytics), `job-worker` (rescheduling, critical path, Notion sync) and `relay`
 * (the outbox relay: events to the transport, jobs to the job backend). Any of them can be replicated.
 */
export const ROLES = ['api', 'event-worker', 'job-worker', 'relay'] as const;
export type Role = (typeof ROLES)[number];

export interface AppOptions {
  /** Which parts run in this process. @defaultValue all of them */
  roles?: ReadonlyArray<Role>;
  /** TCP port of the API; 0 picks a free one. */
  port?: number;
  logger?: Logger;
  /** The transport the bus and the relay run on (the memory transport by default); the app closes it. */
  transport?: Transport;
  /** Postgres or PGlite; PGlite in memory by default. */
  database?: DatabaseConfig;
  /** Signs login tokens; a random one (tokens die with the process) by default. Give one to replicated APIs. */
  authSecret?: string;
  /** Sends the notification emails; to the log by default. */
  email?: EmailSender;
  /** Sends text messages for urgent assignments; to the log by default. */
  sms?: SmsSender;
  /** Verifies `POST /api/v1/webhooks/notion`; a random one by default. */
  notionSecret?: string;
  /** Seed the demo users, projects and tasks when the database has none (the `api` role does). @defaultValue true */
  seed?: boolean;
}

/**
 * Starts the task manager's roles (all of them: one process with everything) on Postgres (or PGlite) and a
 * transport. Each change and its events commit in one transaction; the relay delivers the events to the workers'
 * groups and the jobs to the job backend. `close()` stops taking work, finishes what runs, and releases everything.
 */
export async function startApp(options: AppOptions = {}) {
  const roles = new Set<Role>(options.roles ?? ROLES);
  const logger = options.logger ?? silentLogger;
  const database = await openDatabase(options.database ?? { kind: 'pglite', dataDir: undefined });
  const transport = options.transport ?? memoryTransport();
  const store = postgresEventStore({ pool: database.pool, schema: RELAYBUS_SCHEMA });
  const bus: AppBus = createEventBus({ events: catalog, transport, store, source: 'task-manager', logger });
  // Jobs go through the outbox too (enqueued in the change's transaction), to the transport's job backend when it
  // has one (Redis: shared by every process), else the memory backend (one process only). One job per project at once.
  const jobs: SchedulingQueue = createJobQueue({
    jobs: schedulingJobs,
    store,
    queue: 'task-manager',
    groups: { concurrency: 1 },
    logger,
    ...(transport.jobBackend === undefined ? {} : { transport }),
  });
  const relay = createOutboxRelay({
    pool: database.pool,
    schema: RELAYBUS_SCHEMA,
    transport,
    jobQueues: [jobs],
    logger,
  });
  const tasks = new TaskService(database.pool, bus, jobs);
  // One registry for the bus (published, handled, durations), the jobs and the relay (lag), served at /metrics.
  const meter = metrics({ prefix: 'task_manager_' });
  bus.use(meter);
  const unregister = [jobs.registerMetrics(meter), relay.registerMetrics(meter)];
  const stops: Array<() => Promise<void>> = [];

  // Event workers register before anything is published: on a broker, a group exists from its first subscribe on.
  let analytics: Analytics | undefined;
  const subscriptions: Array<ReturnType<AppBus['subscribe']>> = [];
  if (roles.has('event-worker')) {
    const inbox = createInbox({ pool: database.pool, schema: RELAYBUS_SCHEMA });
    const email = options.email ?? logEmailSender(logger);
    const sms = options.sms ?? logSmsSender(logger);
    const model = emptyAnalytics();
    analytics = model;
    subscriptions.push(
      bus.subscribe(NOTIFIED_EVENTS, notificationHandler({ pool: database.pool, inbox, bus, email, sms }), {
        group: 'notifications',
      }),
      bus.subscribe('task.*', (event) => applyAnalytics(model, event), { group: 'analytics' }),
    );
    await Promise.all(subscriptions.map((subscription) => subscription.ready));
  }
  if (roles.has('job-worker')) {
    const worker = jobs.work(
      schedulingHandlers(database.pool, bus, () => jobs),
      { concurrency: 4 },
    );
    stops.push(() => worker.close({ timeoutMs: 5_000 }));
  }
  if (roles.has('relay')) {
    await relay.start();
  }

  let server: Server | undefined;
  let bridge: WsBridge | undefined;
  let url = '';
  if (roles.has('api')) {
    if (options.seed ?? true) await seedDemo(database.pool, bus, tasks);
    const authSecret = options.authSecret ?? randomBytes(32).toString('base64url');
    // Analytics are computed live by the event worker; an API without one in its process rebuilds them from the log.
    const currentAnalytics = async () => analyticsView(analytics ?? (await rebuildAnalytics(store)));
    server = createServer(
      createApi({
        page: { html: PAGE_HTML, script: pageScript },
        ops: {
          overview: async () => ({
            relay: await relay.stats(),
            jobs: (await jobs.inspect()).counts,
            deadJobs: (await jobs.dead.list({ limit: 50 })).jobs,
            deadLetters: await bus.deadLetters.list({ limit: 50 }),
          }),
          retryDeadJob: (id) => jobs.dead.retry(id),
          redriveDeadLetters: () => bus.deadLetters.redrive(),
        },
        pool: database.pool,
        tasks,
        bus,
        jobs,
        store,
        analytics: currentAnalytics,
        notionSecret: options.notionSecret ?? randomBytes(32).toString('base64url'),
        authSecret,
        metrics: () => meter.prometheus(),
        stats: async () => {
          const { rows } = await database.pool.query<{ line: string }>(
            "SELECT user_id || ': ' || subject AS line FROM notifications ORDER BY sent_at, id",
          );
          const totals = Object.values((await currentAnalytics()).byProject).reduce(
            (sum, project) => ({
              created: sum.created + project.created,
              completed: sum.completed + project.completed,
            }),
            { created: 0, completed: 0 },
          );
          return { analytics: totals, notifications: rows.map((row) => row.line) };
        },
        ready: async () => {
          const checks = {
            database: await database.pool.query('SELECT 1').then(
              () => true,
              () => false,
            ),
            subscriptions: subscriptions.every((subscription) => subscription.state === 'active'),
          };
          return { ready: Object.values(checks).every(Boolean), checks };
        },
      }),
    );
    // Bus events to the page, live and resumed from the log after a reconnect; each user sees their projects' events
    // and their own notifications only.
    bridge = createWsBridge({
      store,
      server,
      ssePath: false,
      authenticate: async ({ token }) => {
        const session = token === undefined ? undefined : verifyToken(authSecret, token);
        if (session === undefined) return null;
        const { rows } = await database.pool.query<{ project_id: string }>(
          'SELECT project_id FROM project_members WHERE user_id = $1',
          [session.userId],
        );
        return {
          id: session.userId,
          expiresAt: session.exp * 1000,
          projects: new Set(rows.map((row) => row.project_id)),
        };
      },
      authorize: {
        event: (user, event) => {
          const data = event.data as { projectId?: unknown; recipient?: unknown };
          if (event.type === 'notification.sent') return data.recipient === user.id;
          return typeof data.projectId === 'string' && user.projects.has(data.projectId);
        },
      },
    });
    const listening = server;
    await new Promise<void>((resolve) => listening.listen(options.port ?? 3000, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(listening.address() as AddressInfo).port}`;
  }

  return {
    url,
    roles,
    bus,
    tasks,
    jobs,
    /** The live analytics view (computed from the log when this process runs no event worker). */
    analytics: async () => analyticsView(analytics ?? (await rebuildAnalytics(store))),
    /** Stops taking requests and work, lets running work finish (bounded), then releases the connections. */
    async close() {
      await bridge?.close({ timeoutMs: 2_000 });
      const open = server;
      if (open !== undefined) await new Promise<void>((resolve) => open.close(() => resolve()));
      for (const stop of unregister) stop();
      await relay.close();
      for (const stop of stops) await stop();
      await jobs.close({ timeoutMs: 5_000 });
      await bus.close({ timeoutMs: 5_000 });
      await store.close();
      await database.close();
    },
  };
}

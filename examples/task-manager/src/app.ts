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
import { createWsBridge } from '@relaybus/ws-bridge';
import { analyticsView, applyAnalytics, emptyAnalytics } from './analytics/analytics';
import { verifyToken } from './api/auth';
import { createApi } from './api/routes';
import { type DatabaseConfig, openDatabase, RELAYBUS_SCHEMA } from './db/database';
import { catalog } from './domain/events';
import { type AppBus, TaskService } from './domain/task-service';
import { type SchedulingQueue, schedulingHandlers, schedulingJobs } from './jobs/scheduling';
import { type EmailSender, logEmailSender } from './notifications/senders';
import { NOTIFIED_EVENTS, notificationHandler } from './notifications/worker';
import { seedDemo } from './seed';
import { PAGE_HTML, pageScript } from './web/server';

export interface AppOptions {
  /** TCP port; 0 picks a free one. */
  port?: number;
  logger?: Logger;
  /** The transport the bus and the relay run on (the memory transport by default); the app closes it. */
  transport?: Transport;
  /** Postgres or PGlite; PGlite in memory by default. */
  database?: DatabaseConfig;
  /** Signs login tokens; a random one (tokens die with the process) by default. */
  authSecret?: string;
  /** Sends the notification emails; to the log by default. */
  email?: EmailSender;
  /** Verifies `POST /api/v1/webhooks/notion`; a random one by default. */
  notionSecret?: string;
  /** Seed the demo users, projects and tasks when the database has none. @defaultValue true */
  seed?: boolean;
}

/**
 * The task manager as one process: the HTTP API, the outbox relay, and the notification and analytics workers, on
 * Postgres (or PGlite) and a transport. Each change and its events commit in one transaction; the relay delivers the
 * events to the workers' groups.
 */
export async function startApp(options: AppOptions = {}) {
  const logger = options.logger ?? silentLogger;
  const database = await openDatabase(options.database ?? { kind: 'pglite', dataDir: undefined });
  const transport = options.transport ?? memoryTransport();
  const store = postgresEventStore({ pool: database.pool, schema: RELAYBUS_SCHEMA });
  const bus: AppBus = createEventBus({ events: catalog, transport, store, source: 'task-manager', logger });
  // Jobs go through the outbox too (enqueued in the change's transaction), to the transport's job backend when it
  // has one (Redis), else the memory backend. One job at a time per project.
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
  const jobWorker = jobs.work(
    schedulingHandlers(database.pool, bus, () => jobs),
    { concurrency: 4 },
  );
  const inbox = createInbox({ pool: database.pool, schema: RELAYBUS_SCHEMA });
  const email = options.email ?? logEmailSender(logger);
  const analytics = emptyAnalytics();

  // Registered before the API listens: on a broker, a group exists from its first subscribe on.
  const subscriptions = [
    bus.subscribe(NOTIFIED_EVENTS, notificationHandler({ pool: database.pool, inbox, bus, email }), {
      group: 'notifications',
    }),
    bus.subscribe('task.*', (event) => applyAnalytics(analytics, event), { group: 'analytics' }),
  ];
  await Promise.all(subscriptions.map((subscription) => subscription.ready));
  await relay.start();
  if (options.seed ?? true) await seedDemo(database.pool, bus, tasks);

  const authSecret = options.authSecret ?? randomBytes(32).toString('base64url');
  const server: Server = createServer(
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
      analytics: () => analyticsView(analytics),
      notionSecret: options.notionSecret ?? randomBytes(32).toString('base64url'),
      authSecret,
      metrics: () => meter.prometheus(),
      stats: async () => {
        const { rows } = await database.pool.query<{ line: string }>(
          "SELECT user_id || ': ' || subject AS line FROM notifications ORDER BY sent_at, id",
        );
        const totals = Object.values(analytics.byProject).reduce(
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
  // Bus events to the page, live and resumed from the log after a reconnect; each user sees their projects' events and
  // their own notifications only.
  const bridge = createWsBridge({
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
  await new Promise<void>((resolve) => server.listen(options.port ?? 3000, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    bus,
    tasks,
    jobs,
    /** The live analytics view. */
    analytics: () => analyticsView(analytics),
    async close() {
      await bridge.close({ timeoutMs: 2_000 });
      await new Promise<void>((resolve) => server.close(() => resolve()));
      for (const stop of unregister) stop();
      await relay.close();
      await jobWorker.close({ timeoutMs: 5_000 });
      await jobs.close({ timeoutMs: 5_000 });
      await bus.close({ timeoutMs: 5_000 });
      await database.close();
    },
  };
}

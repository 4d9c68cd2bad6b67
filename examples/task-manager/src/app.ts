import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createEventBus,
  type Logger,
  RelaybusError,
  silentLogger,
  type Transport,
  uuidv7,
} from '@relaybus/core';
import { z } from 'zod';
import { catalog, NotificationSent, TaskCompleted, TaskCreated, TaskPriority } from './domain/events';

/** The body of `POST /api/v1/tasks`. */
const CreateTaskBody = z.object({
  projectId: z.string().min(1),
  title: z.string().min(1),
  description: z.string().default(''),
  priority: TaskPriority.default('medium'),
  assignee: z.string().min(1).optional(),
  startDate: z.iso.date().optional(),
  endDate: z.iso.date().optional(),
  durationDays: z.number().int().min(0).default(1),
});

export interface Task {
  id: string;
  projectId: string;
  title: string;
  assignee?: string;
  status: 'open' | 'done';
}

export interface AppOptions {
  /** TCP port; 0 picks a free one. */
  port?: number;
  logger?: Logger;
  /** The transport the bus runs on (the memory transport by default); the app closes it. */
  transport?: Transport;
}

/** The task manager as one process: HTTP API, bus on the memory transport, notification and analytics workers. */
export async function startApp(options: AppOptions = {}) {
  const logger = options.logger ?? silentLogger;
  const bus = createEventBus({
    events: catalog,
    source: 'task-manager',
    logger,
    ...(options.transport === undefined ? {} : { transport: options.transport }),
  });
  const tasks = new Map<string, Task>();
  const notifications: string[] = [];
  const analytics = { created: 0, completed: 0 };

  // Registered before the API listens: on a broker, a group exists from its first subscribe on.
  const notificationsSub = bus.subscribe(
    TaskCreated,
    async (event, ctx) => {
      const { assigneeId, title, taskId } = event.data;
      const text = `New task "${title}"${assigneeId ? ` for ${assigneeId}` : ''}`;
      notifications.push(text);
      logger.info(text);
      await ctx.publish(NotificationSent, {
        notificationId: uuidv7(),
        channel: 'log',
        recipient: assigneeId ?? 'project',
        subject: text,
        cause: event.id,
        taskId,
      });
    },
    { group: 'notifications' },
  );
  const analyticsSub = bus.subscribe(
    'task.*',
    (event) => {
      if (event.type === 'task.created') analytics.created += 1;
      else analytics.completed += 1;
    },
    { group: 'analytics' },
  );

  const server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => reply(res, 500, { error: String(error) }));
  });

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'GET' && url.pathname === '/api/v1/tasks') return reply(res, 200, [...tasks.values()]);
    if (req.method === 'GET' && url.pathname === '/api/v1/stats')
      return reply(res, 200, { analytics, notifications });
    if (req.method === 'POST' && url.pathname === '/api/v1/tasks') {
      const parsed = CreateTaskBody.safeParse(await readJson(req));
      if (!parsed.success) {
        const issues = parsed.error.issues.map((issue) => ({
          path: issue.path.join('.'),
          message: issue.message,
        }));
        return reply(res, 400, {
          code: 'VALIDATION_FAILED',
          error: issues.map((issue) => `${issue.path}: ${issue.message}`).join('; '),
          issues,
        });
      }
      const body = parsed.data;
      const id = uuidv7();
      try {
        await bus.publish(
          TaskCreated,
          {
            taskId: id,
            projectId: body.projectId,
            title: body.title,
            description: body.description,
            status: 'pending',
            priority: body.priority,
            assigneeId: body.assignee ?? null,
            startDate: body.startDate ?? null,
            endDate: body.endDate ?? null,
            durationDays: body.durationDays,
            createdBy: null,
          },
          { subject: id },
        );
      } catch (error) {
        if (error instanceof RelaybusError)
          return reply(res, 400, { code: error.code, error: error.message });
        throw error;
      }
      const task: Task = {
        id,
        projectId: body.projectId,
        title: body.title,
        status: 'open',
        ...(body.assignee === undefined ? {} : { assignee: body.assignee }),
      };
      tasks.set(id, task);
      return reply(res, 201, task);
    }
    const complete = /^\/api\/v1\/tasks\/([^/]+)\/complete$/.exec(url.pathname);
    if (req.method === 'POST' && complete) {
      const task = tasks.get(complete[1] ?? '');
      if (!task) return reply(res, 404, { error: 'no such task' });
      task.status = 'done';
      const completedAt = new Date().toISOString();
      await bus.publish(
        TaskCompleted,
        { taskId: task.id, projectId: task.projectId, completedAt, completedBy: null },
        { subject: task.id },
      );
      return reply(res, 200, task);
    }
    reply(res, 404, { error: `no route for ${req.method} ${url.pathname}` });
  }

  await Promise.all([notificationsSub.ready, analyticsSub.ready]);
  await new Promise<void>((resolve) => server.listen(options.port ?? 3000, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    bus,
    async close() {
      await new Promise<void>((resolve) => (server as Server).close(() => resolve()));
      await bus.close({ timeoutMs: 5_000 });
    },
  };
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text.length === 0 ? {} : JSON.parse(text);
}

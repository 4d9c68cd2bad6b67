import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EventStore } from '@relaybus/core';
import type { Pool } from 'pg';
import { z } from 'zod';
import type { analyticsView } from '../analytics/analytics';
import { NotFoundError } from '../domain/errors';
import { type AppBus, CreateTaskInput, type TaskService, UpdateTaskInput } from '../domain/task-service';
import type { SchedulingQueue } from '../jobs/scheduling';
import { signToken, verifyPassword, verifyToken } from './auth';
import { errorResponse, HttpError, readJson, reply } from './http';
import { receiveNotionWebhook } from './notion-webhook';
import { openApiDocument } from './openapi';

export const LoginInput = z.object({ email: z.email(), password: z.string().min(1) });
export const AuditQuery = z.object({
  subject: z.string().min(1),
  limit: z.coerce.number().int().min(1).max(1_000).default(200),
});
export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().min(1).optional(),
});

/** What the routes need. */
export interface ApiContext {
  readonly pool: Pool;
  readonly tasks: TaskService;
  readonly authSecret: string;
  readonly bus: AppBus;
  readonly jobs: SchedulingQueue;
  /** The event log, for the audit trail. */
  readonly store: EventStore;
  /** Verifies Notion webhooks. */
  readonly notionSecret: string;
  /** What the workers have seen, for `GET /api/v1/stats`. */
  readonly stats: () => Promise<unknown>;
  /** Prometheus text of every metric. */
  readonly metrics: () => string;
  /** What the operations view shows: relay lag, job counts, dead jobs, dead letters. */
  readonly ops: {
    overview(): Promise<unknown>;
    retryDeadJob(id: string): Promise<number>;
    redriveDeadLetters(): Promise<number>;
  };
  /** The web page and its script. */
  readonly page: { readonly html: string; script(): Promise<string> };
  /** The live analytics view. */
  readonly analytics: () => Promise<ReturnType<typeof analyticsView>>;
  /** Whether the store, the transport and the subscriptions are ready. */
  readonly ready: () => Promise<{ ready: boolean; checks: Record<string, boolean> }>;
}

type Handler = (
  req: IncomingMessage,
  params: string[],
  url: URL,
) => Promise<[number, unknown, Record<string, string>?]>;

/** `If-Match: "3"` (or `3`, or `W/"3"`): the task version an edit was made against. */
function ifMatch(req: IncomingMessage, required: boolean): number | undefined {
  const header = req.headers['if-match'];
  if (header === undefined) {
    if (required)
      throw new HttpError(
        428,
        'PRECONDITION_REQUIRED',
        'send If-Match with the task version you edited (its ETag)',
      );
    return undefined;
  }
  const version = Number(/^(?:W\/)?"?(\d+)"?$/.exec(header.trim())?.[1]);
  if (!Number.isSafeInteger(version))
    throw new HttpError(
      400,
      'MALFORMED_IF_MATCH',
      `If-Match ${JSON.stringify(header)} is not a task version such as "3"`,
    );
  return version;
}

/** The HTTP API: a request handler for `node:http`. */
export function createApi(context: ApiContext): (req: IncomingMessage, res: ServerResponse) => void {
  const { tasks, pool } = context;
  const user = (req: IncomingMessage): string => {
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const session = token === undefined ? undefined : verifyToken(context.authSecret, token);
    if (session === undefined)
      throw new HttpError(
        401,
        'UNAUTHENTICATED',
        'sign in: POST /api/v1/auth/login, then send Authorization: Bearer <token>',
      );
    return session.userId;
  };
  const etag = (task: { version: number }) => ({ etag: `"${task.version}"` });
  const isMember = async (userId: string, projectId: string): Promise<boolean> =>
    (
      await pool.query('SELECT 1 FROM project_members WHERE user_id = $1 AND project_id = $2', [
        userId,
        projectId,
      ])
    ).rows.length > 0;

  const routes: Array<[method: string, pattern: RegExp, handler: Handler]> = [
    ['GET', /^\/$/, async () => [200, context.page.html, { 'content-type': 'text/html; charset=utf-8' }]],
    [
      'GET',
      /^\/app\.js$/,
      async () => [200, await context.page.script(), { 'content-type': 'text/javascript; charset=utf-8' }],
    ],
    ['GET', /^\/healthz$/, async () => [200, { ok: true }]],
    [
      'GET',
      /^\/api\/v1\/ops$/,
      async (req) => {
        user(req);
        return [200, await context.ops.overview()];
      },
    ],
    [
      'POST',
      /^\/api\/v1\/ops\/dead-jobs\/([^/]+)\/retry$/,
      async (req, [id]) => {
        user(req);
        return [200, { retried: await context.ops.retryDeadJob(id as string) }];
      },
    ],
    [
      'POST',
      /^\/api\/v1\/ops\/dead-letters\/redrive$/,
      async (req) => {
        user(req);
        return [200, { redriven: await context.ops.redriveDeadLetters() }];
      },
    ],
    [
      'GET',
      /^\/readyz$/,
      async () => {
        const status = await context.ready();
        return [status.ready ? 200 : 503, status];
      },
    ],
    ['GET', /^\/api\/v1\/openapi\.json$/, async () => [200, openApiDocument()]],
    [
      'GET',
      /^\/metrics$/,
      async () => [200, context.metrics(), { 'content-type': 'text/plain; version=0.0.4' }],
    ],
    [
      'POST',
      /^\/api\/v1\/auth\/login$/,
      async (req) => {
        const { email, password } = LoginInput.parse(await readJson(req));
        const { rows } = await pool.query<{ id: string; name: string; password_hash: string }>(
          'SELECT id, name, password_hash FROM users WHERE email = $1',
          [email.toLowerCase()],
        );
        const found = rows[0];
        if (found === undefined || !verifyPassword(password, found.password_hash)) {
          throw new HttpError(401, 'BAD_CREDENTIALS', 'no user with that email and password');
        }
        return [
          200,
          { token: signToken(context.authSecret, found.id), user: { id: found.id, name: found.name, email } },
        ];
      },
    ],
    [
      'GET',
      /^\/api\/v1\/projects$/,
      async (req) => {
        const { rows } = await pool.query(
          `SELECT p.id, p.name, p.owner_id AS "ownerId" FROM projects p
           JOIN project_members m ON m.project_id = p.id AND m.user_id = $1 ORDER BY p.name, p.id`,
          [user(req)],
        );
        return [200, { items: rows }];
      },
    ],
    [
      'GET',
      /^\/api\/v1\/projects\/([^/]+)\/tasks$/,
      async (req, [projectId], url) => {
        const query = PageQuery.parse(Object.fromEntries(url.searchParams));
        return [200, await tasks.list(user(req), projectId as string, query)];
      },
    ],
    [
      'POST',
      /^\/api\/v1\/tasks$/,
      async (req) => {
        const actor = user(req);
        const task = await tasks.create(actor, CreateTaskInput.parse(await readJson(req)));
        return [201, task, { ...etag(task), location: `/api/v1/tasks/${task.id}` }];
      },
    ],
    [
      'GET',
      /^\/api\/v1\/tasks\/([^/]+)$/,
      async (req, [taskId]) => {
        const task = await tasks.get(user(req), taskId as string);
        return [200, task, etag(task)];
      },
    ],
    [
      'PATCH',
      /^\/api\/v1\/tasks\/([^/]+)$/,
      async (req, [taskId]) => {
        const actor = user(req);
        const version = ifMatch(req, true) as number;
        const task = await tasks.update(
          actor,
          taskId as string,
          version,
          UpdateTaskInput.parse(await readJson(req)),
        );
        return [200, task, etag(task)];
      },
    ],
    [
      'DELETE',
      /^\/api\/v1\/tasks\/([^/]+)$/,
      async (req, [taskId]) => {
        await tasks.remove(user(req), taskId as string, ifMatch(req, false));
        return [204, undefined];
      },
    ],
    [
      'PUT',
      /^\/api\/v1\/tasks\/([^/]+)\/dependencies\/([^/]+)$/,
      async (req, [taskId, dependsOn]) => {
        const task = await tasks.addDependency(user(req), taskId as string, dependsOn as string);
        return [200, task, etag(task)];
      },
    ],
    [
      'DELETE',
      /^\/api\/v1\/tasks\/([^/]+)\/dependencies\/([^/]+)$/,
      async (req, [taskId, dependsOn]) => {
        const task = await tasks.removeDependency(user(req), taskId as string, dependsOn as string);
        return [200, task, etag(task)];
      },
    ],
    [
      'GET',
      /^\/api\/v1\/analytics$/,
      async (req) => {
        const actor = user(req);
        const { rows } = await pool.query<{ project_id: string }>(
          'SELECT project_id FROM project_members WHERE user_id = $1',
          [actor],
        );
        const mine = new Set(rows.map((row) => row.project_id));
        const view = await context.analytics();
        return [
          200,
          {
            byProject: Object.fromEntries(Object.entries(view.byProject).filter(([id]) => mine.has(id))),
            you: view.byUser[actor] ?? { created: 0, completed: 0, averageCompletionMs: null },
          },
        ];
      },
    ],
    [
      'GET',
      /^\/api\/v1\/notifications$/,
      async (req) => {
        const { rows } = await pool.query(
          `SELECT id, channel, subject, task_id AS "taskId", sent_at AS "sentAt" FROM notifications
           WHERE user_id = $1 ORDER BY sent_at DESC, id DESC LIMIT 100`,
          [user(req)],
        );
        return [200, { items: rows }];
      },
    ],
    [
      'POST',
      /^\/api\/v1\/webhooks\/notion$/,
      async (req) => [
        202,
        await receiveNotionWebhook(req, {
          pool,
          bus: context.bus,
          jobs: context.jobs,
          secret: context.notionSecret,
        }),
      ],
    ],
    [
      'GET',
      /^\/api\/audit$/,
      async (req, _params, url) => {
        const actor = user(req);
        const { subject, limit } = AuditQuery.parse(Object.fromEntries(url.searchParams));
        // The subject is a project of the user's, or a task of one (current or deleted: its events name its project).
        const { rows } = await pool.query<{ project_id: string }>(
          `SELECT m.project_id FROM project_members m WHERE m.user_id = $1 AND m.project_id = $2
           UNION SELECT t.project_id FROM tasks t JOIN project_members m ON m.project_id = t.project_id AND m.user_id = $1
           WHERE t.id = $2`,
          [actor, subject],
        );
        const trail: unknown[] = [];
        for await (const event of context.store.readAll()) {
          const data = event.data as { projectId?: unknown; taskId?: unknown };
          const about = event.subject === subject || data.taskId === subject || data.projectId === subject;
          if (!about) continue;
          const projectId = typeof data.projectId === 'string' ? data.projectId : undefined;
          if (rows.length === 0 && !(projectId !== undefined && (await isMember(actor, projectId)))) {
            throw new NotFoundError(`audit subject ${subject}`);
          }
          trail.push({
            position: event.position,
            type: event.type,
            version: event.version,
            time: event.time,
            data: event.data,
          });
          if (trail.length >= limit) break;
        }
        if (trail.length === 0 && rows.length === 0) throw new NotFoundError(`audit subject ${subject}`);
        return [200, { subject, items: trail }];
      },
    ],
    [
      'GET',
      /^\/api\/v1\/stats$/,
      async (req) => {
        user(req);
        return [200, await context.stats()];
      },
    ],
  ];

  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const handle = async (): Promise<void> => {
      let allowed: string[] = [];
      for (const [method, pattern, handler] of routes) {
        const match = pattern.exec(path);
        if (match === null) continue;
        if (method !== req.method) {
          allowed.push(method);
          continue;
        }
        const [status, body, headers] = await handler(req, match.slice(1).map(decodeURIComponent), url);
        return reply(res, status, body, headers);
      }
      allowed = [...new Set(allowed)];
      if (allowed.length > 0) {
        return reply(
          res,
          405,
          { code: 'METHOD_NOT_ALLOWED', error: `${req.method} ${path}: use ${allowed.join(', ')}` },
          { allow: allowed.join(', ') },
        );
      }
      reply(res, 404, { code: 'NO_ROUTE', error: `no route for ${req.method} ${path}` });
    };
    handle().catch((error: unknown) => {
      const { status, body } = errorResponse(error);
      if (status === 500)
        console.error(JSON.stringify({ level: 'error', msg: 'request failed', path, error: String(error) }));
      if (!res.headersSent) reply(res, status, body);
    });
  };
}

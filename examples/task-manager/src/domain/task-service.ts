import { type EventBus, uuidv7 } from '@relaybus/core';
import type { ClientBase, Pool, PoolClient } from 'pg';
import { z } from 'zod';
import { inTransaction } from '../db/transaction';
import {
  CRITICAL_PATH_DEBOUNCE_MS,
  RecalculateCriticalPath,
  RescheduleDependencies,
  type SchedulingQueue,
} from '../jobs/scheduling';
import { ConflictError, NotFoundError, StaleVersionError } from './errors';
import {
  type catalog,
  TaskAssigned,
  TaskCollaboratorsUpdated,
  TaskCompleted,
  TaskCreated,
  TaskDeleted,
  TaskDependencyAdded,
  TaskDependencyRemoved,
  TaskPriority,
  TaskPriorityChanged,
  TaskStatus,
  TaskStatusChanged,
  TaskUpdated,
  TaskWatchersUpdated,
} from './events';
import { findCycle } from './schedule';

/** The bus the service publishes on: events commit with the change, in the same Postgres transaction. */
export type AppBus = EventBus<(typeof catalog)[number], ClientBase>;

const userIds = z.array(z.string().min(1)).max(100);

/** The body of a task creation. */
export const CreateTaskInput = z.object({
  projectId: z.string().min(1),
  title: z.string().trim().min(1).max(200),
  description: z.string().max(10_000).default(''),
  priority: TaskPriority.default('medium'),
  assigneeId: z.string().min(1).nullable().default(null),
  startDate: z.iso.date().nullable().default(null),
  endDate: z.iso.date().nullable().default(null),
  durationDays: z.number().int().min(0).max(3650).default(1),
});
export type CreateTaskInput = z.input<typeof CreateTaskInput>;

/** The body of a task edit: any subset of the editable fields. */
export const UpdateTaskInput = z
  .object({
    title: z.string().trim().min(1).max(200),
    description: z.string().max(10_000),
    status: TaskStatus,
    priority: TaskPriority,
    assigneeId: z.string().min(1).nullable(),
    collaborators: userIds,
    watchers: userIds,
    startDate: z.iso.date().nullable(),
    endDate: z.iso.date().nullable(),
    durationDays: z.number().int().min(0).max(3650),
  })
  .partial()
  .strict();
export type UpdateTaskInput = z.input<typeof UpdateTaskInput>;

/** A task as the API returns it. */
export interface Task {
  readonly id: string;
  readonly projectId: string;
  readonly title: string;
  readonly description: string;
  readonly status: z.infer<typeof TaskStatus>;
  readonly priority: z.infer<typeof TaskPriority>;
  readonly assigneeId: string | null;
  readonly collaborators: ReadonlyArray<string>;
  readonly watchers: ReadonlyArray<string>;
  readonly startDate: string | null;
  readonly endDate: string | null;
  readonly durationDays: number;
  readonly isCritical: boolean;
  readonly dependsOn: ReadonlyArray<string>;
  readonly version: number;
  readonly createdBy: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

interface TaskRow {
  id: string;
  project_id: string;
  title: string;
  description: string;
  status: Task['status'];
  priority: Task['priority'];
  assignee_id: string | null;
  collaborators: string[];
  watchers: string[];
  start_date: string | null;
  end_date: string | null;
  duration_days: number;
  is_critical: boolean;
  version: number;
  created_by: string | null;
  created_at: Date | string;
  updated_at: Date | string;
  depends_on: string[] | null;
}

const TASK_COLUMNS = `t.id, t.project_id, t.title, t.description, t.status, t.priority, t.assignee_id, t.collaborators,
  t.watchers, to_char(t.start_date, 'YYYY-MM-DD') AS start_date, to_char(t.end_date, 'YYYY-MM-DD') AS end_date,
  t.duration_days, t.is_critical, t.version, t.created_by, t.created_at, t.updated_at,
  ARRAY(SELECT d.depends_on FROM task_dependencies d WHERE d.task_id = t.id ORDER BY d.depends_on) AS depends_on`;

function toTask(row: TaskRow): Task {
  const iso = (value: Date | string): string => new Date(value).toISOString();
  return {
    id: row.id,
    projectId: row.project_id,
    title: row.title,
    description: row.description,
    status: row.status,
    priority: row.priority,
    assigneeId: row.assignee_id,
    collaborators: row.collaborators,
    watchers: row.watchers,
    startDate: row.start_date,
    endDate: row.end_date,
    durationDays: row.duration_days,
    isCritical: row.is_critical,
    dependsOn: row.depends_on ?? [],
    version: row.version,
    createdBy: row.created_by,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

/** A page of tasks, oldest first, and the cursor of the next page. */
export interface TaskPage {
  readonly items: ReadonlyArray<Task>;
  readonly next: string | null;
}

/**
 * Task commands and queries. Every change and the events it raises commit in one transaction: the rows, and the
 * events appended to relaybus's log through the bus's `transaction` option, which the outbox relay then delivers.
 * Every call is made as a user, who sees only the projects they are a member of.
 */
export class TaskService {
  constructor(
    private readonly pool: Pool,
    private readonly bus: AppBus,
    /** Where rescheduling and critical-path jobs go, enqueued in the change's transaction; none: no jobs. */
    private readonly jobs?: SchedulingQueue,
  ) {}

  /** Enqueues, in the change's transaction, a debounced recalculation of the project's critical path. */
  async #recalculate(client: PoolClient, projectId: string): Promise<void> {
    await this.jobs?.enqueue(
      RecalculateCriticalPath,
      { projectId },
      { transaction: client, delayMs: CRITICAL_PATH_DEBOUNCE_MS },
    );
  }

  async create(actor: string, input: CreateTaskInput): Promise<Task> {
    const data = CreateTaskInput.parse(input);
    return this.#inTransaction(async (client) => {
      await this.#requireMember(client, actor, data.projectId);
      if (data.assigneeId !== null)
        await this.#requireMember(client, data.assigneeId, data.projectId, 'assignee');
      const id = uuidv7();
      await client.query(
        `INSERT INTO tasks (id, project_id, title, description, status, priority, assignee_id, start_date, end_date,
           duration_days, created_by)
         VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7, $8, $9, $10)`,
        [
          id,
          data.projectId,
          data.title,
          data.description,
          data.priority,
          data.assigneeId,
          data.startDate,
          data.endDate,
          data.durationDays,
          actor,
        ],
      );
      await this.bus.publish(
        TaskCreated,
        { taskId: id, ...data, status: 'pending', createdBy: actor },
        { transaction: client, subject: id },
      );
      await this.#recalculate(client, data.projectId);
      return this.#load(client, id);
    });
  }

  /**
   * Applies an edit made against `expectedVersion` (the `If-Match` of the request): a stale version is refused with
   * {@link StaleVersionError}. Publishes `task.updated` with the changed fields, plus the specific event of each kind
   * of change (status, completion, priority, assignment, collaborators, watchers).
   */
  async update(
    actor: string,
    taskId: string,
    expectedVersion: number,
    input: UpdateTaskInput,
  ): Promise<Task> {
    const patch = UpdateTaskInput.parse(input);
    return this.#inTransaction(async (client) => {
      const before = await this.#loadForUpdate(client, actor, taskId);
      if (before.version !== expectedVersion)
        throw new StaleVersionError(taskId, expectedVersion, before.version);
      if (patch.assigneeId != null) {
        await this.#requireMember(client, patch.assigneeId, before.projectId, 'assignee');
      }
      const changes: Record<string, { from: unknown; to: unknown }> = {};
      const given = Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined));
      for (const [field, to] of Object.entries(given)) {
        const from = before[field as keyof Task];
        if (JSON.stringify(from) !== JSON.stringify(to)) changes[field] = { from, to };
      }
      if (Object.keys(changes).length === 0) return before;
      const after: Task = { ...before, ...(given as Partial<Task>) };
      await client.query(
        `UPDATE tasks SET title = $2, description = $3, status = $4, priority = $5, assignee_id = $6,
           collaborators = $7, watchers = $8, start_date = $9, end_date = $10, duration_days = $11,
           version = version + 1, updated_at = now()
         WHERE id = $1`,
        [
          taskId,
          after.title,
          after.description,
          after.status,
          after.priority,
          after.assigneeId,
          after.collaborators,
          after.watchers,
          after.startDate,
          after.endDate,
          after.durationDays,
        ],
      );
      const { projectId } = before;
      const publish = { transaction: client, subject: taskId };
      await this.bus.publish(
        TaskUpdated,
        { taskId, projectId, version: before.version + 1, changes },
        publish,
      );
      if (changes['status']) {
        await this.bus.publish(
          TaskStatusChanged,
          { taskId, projectId, from: before.status, to: after.status },
          publish,
        );
        if (after.status === 'completed') {
          await this.bus.publish(
            TaskCompleted,
            { taskId, projectId, completedAt: new Date().toISOString(), completedBy: actor },
            publish,
          );
        }
      }
      if (changes['priority']) {
        await this.bus.publish(
          TaskPriorityChanged,
          { taskId, projectId, from: before.priority, to: after.priority },
          publish,
        );
      }
      if (changes['assigneeId']) {
        await this.bus.publish(
          TaskAssigned,
          { taskId, projectId, assigneeId: after.assigneeId, previousAssigneeId: before.assigneeId },
          publish,
        );
      }
      for (const [field, definition] of [
        ['collaborators', TaskCollaboratorsUpdated],
        ['watchers', TaskWatchersUpdated],
      ] as const) {
        if (!changes[field]) continue;
        const added = after[field].filter((user) => !before[field].includes(user));
        const removed = before[field].filter((user) => !after[field].includes(user));
        await this.bus.publish(definition, { taskId, projectId, added, removed }, publish);
      }
      if (changes['endDate'] && after.endDate !== null) {
        await this.jobs?.enqueue(RescheduleDependencies, { projectId, taskId }, { transaction: client });
      }
      if (changes['startDate'] || changes['endDate'] || changes['durationDays']) {
        await this.#recalculate(client, projectId);
      }
      return this.#load(client, taskId);
    });
  }

  async remove(actor: string, taskId: string, expectedVersion: number | undefined): Promise<void> {
    await this.#inTransaction(async (client) => {
      const task = await this.#loadForUpdate(client, actor, taskId);
      if (expectedVersion !== undefined && task.version !== expectedVersion) {
        throw new StaleVersionError(taskId, expectedVersion, task.version);
      }
      await client.query('DELETE FROM tasks WHERE id = $1', [taskId]);
      await this.bus.publish(
        TaskDeleted,
        { taskId, projectId: task.projectId },
        { transaction: client, subject: taskId },
      );
      await this.#recalculate(client, task.projectId);
    });
  }

  /**
   * Makes `taskId` wait for `dependsOn` (finish-to-start). Refused with {@link ConflictError} when the tasks are in
   * different projects or the dependency would close a cycle, which the error names.
   */
  async addDependency(actor: string, taskId: string, dependsOn: string): Promise<Task> {
    return this.#inTransaction(async (client) => {
      const task = await this.#loadForUpdate(client, actor, taskId);
      const other = await this.#loadForUpdate(client, actor, dependsOn);
      if (other.projectId !== task.projectId) {
        throw new ConflictError(`tasks ${taskId} and ${dependsOn} are in different projects`);
      }
      if (task.dependsOn.includes(dependsOn)) return task;
      // Lock the project's dependency graph: two concurrent additions could each close half a cycle.
      await client.query('SELECT id FROM projects WHERE id = $1 FOR UPDATE', [task.projectId]);
      const { rows } = await client.query<{ predecessor: string; successor: string }>(
        `SELECT d.depends_on AS predecessor, d.task_id AS successor
         FROM task_dependencies d JOIN tasks t ON t.id = d.task_id WHERE t.project_id = $1`,
        [task.projectId],
      );
      const cycle = findCycle(rows, { predecessor: dependsOn, successor: taskId });
      if (cycle !== undefined) {
        throw new ConflictError(`the dependency would close a cycle: ${cycle.join(' → ')}`, { cycle });
      }
      await client.query('INSERT INTO task_dependencies (task_id, depends_on) VALUES ($1, $2)', [
        taskId,
        dependsOn,
      ]);
      await client.query('UPDATE tasks SET version = version + 1, updated_at = now() WHERE id = $1', [
        taskId,
      ]);
      await this.bus.publish(
        TaskDependencyAdded,
        { taskId, projectId: task.projectId, dependsOn },
        { transaction: client, subject: taskId },
      );
      await this.#recalculate(client, task.projectId);
      return this.#load(client, taskId);
    });
  }

  async removeDependency(actor: string, taskId: string, dependsOn: string): Promise<Task> {
    return this.#inTransaction(async (client) => {
      const task = await this.#loadForUpdate(client, actor, taskId);
      const { rowCount } = await client.query(
        'DELETE FROM task_dependencies WHERE task_id = $1 AND depends_on = $2',
        [taskId, dependsOn],
      );
      if (rowCount === 0) throw new NotFoundError(`dependency of task ${taskId} on ${dependsOn}`);
      await client.query('UPDATE tasks SET version = version + 1, updated_at = now() WHERE id = $1', [
        taskId,
      ]);
      await this.bus.publish(
        TaskDependencyRemoved,
        { taskId, projectId: task.projectId, dependsOn },
        { transaction: client, subject: taskId },
      );
      await this.#recalculate(client, task.projectId);
      return this.#load(client, taskId);
    });
  }

  async get(actor: string, taskId: string): Promise<Task> {
    const { rows } = await this.pool.query<TaskRow>(
      `SELECT ${TASK_COLUMNS} FROM tasks t
       JOIN project_members m ON m.project_id = t.project_id AND m.user_id = $2
       WHERE t.id = $1`,
      [taskId, actor],
    );
    const row = rows[0];
    if (row === undefined) throw new NotFoundError(`task ${taskId}`);
    return toTask(row);
  }

  /** A project's tasks, oldest first, `limit` at a time; `cursor` is the `next` of the previous page. */
  async list(
    actor: string,
    projectId: string,
    options: { limit: number; cursor?: string | undefined },
  ): Promise<TaskPage> {
    await this.#requireMember(this.pool, actor, projectId);
    const after = options.cursor === undefined ? undefined : decodeCursor(options.cursor);
    const { rows } = await this.pool.query<TaskRow>(
      `SELECT ${TASK_COLUMNS} FROM tasks t
       WHERE t.project_id = $1 AND ($2::timestamptz IS NULL OR (t.created_at, t.id) > ($2::timestamptz, $3::text))
       ORDER BY t.created_at, t.id LIMIT $4`,
      [projectId, after?.createdAt ?? null, after?.id ?? '', options.limit + 1],
    );
    const items = rows.slice(0, options.limit).map(toTask);
    const last = items[items.length - 1];
    const next = rows.length > options.limit && last !== undefined ? encodeCursor(last) : null;
    return { items, next };
  }

  #inTransaction<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, fn);
  }

  async #requireMember(
    db: Pick<Pool, 'query'> | PoolClient,
    userId: string,
    projectId: string,
    role = 'you',
  ): Promise<void> {
    const { rows } = await db.query('SELECT 1 FROM project_members WHERE project_id = $1 AND user_id = $2', [
      projectId,
      userId,
    ]);
    if (rows.length === 0) {
      throw role === 'you'
        ? new NotFoundError(`project ${projectId}`)
        : new ConflictError(`${role} ${userId} is not a member of project ${projectId}`);
    }
  }

  async #loadForUpdate(client: PoolClient, actor: string, taskId: string): Promise<Task> {
    const { rows } = await client.query<TaskRow>(
      `SELECT ${TASK_COLUMNS} FROM tasks t
       JOIN project_members m ON m.project_id = t.project_id AND m.user_id = $2
       WHERE t.id = $1 FOR UPDATE OF t`,
      [taskId, actor],
    );
    const row = rows[0];
    if (row === undefined) throw new NotFoundError(`task ${taskId}`);
    return toTask(row);
  }

  async #load(client: PoolClient, taskId: string): Promise<Task> {
    const { rows } = await client.query<TaskRow>(`SELECT ${TASK_COLUMNS} FROM tasks t WHERE t.id = $1`, [
      taskId,
    ]);
    return toTask(rows[0] as TaskRow);
  }
}

function encodeCursor(task: Task): string {
  return Buffer.from(JSON.stringify([task.createdAt, task.id])).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: string; id: string } {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [
      unknown,
      unknown,
    ];
    if (typeof createdAt === 'string' && typeof id === 'string' && !Number.isNaN(Date.parse(createdAt))) {
      return { createdAt, id };
    }
  } catch {
    // fall through
  }
  throw new z.ZodError([
    { code: 'custom', path: ['cursor'], message: 'is not a cursor this API returned', input: cursor },
  ]);
}

import { defineJob, type JobQueue } from '@relaybus/core';
import type { ClientBase, Pool } from 'pg';
import { z } from 'zod';
import { inTransaction } from '../db/transaction';
import { CriticalPathCalculated, TaskPropertiesUpdated, TasksRescheduled } from '../domain/events';
import { criticalPath } from '../domain/schedule';
import type { AppBus } from '../domain/task-service';

/** Shifts the tasks that wait for `taskId`, transitively, after its end date moved. One at a time per project. */
export const RescheduleDependencies = defineJob(
  'tasks:reschedule_dependencies',
  z.object({ projectId: z.string(), taskId: z.string() }),
  { group: (payload) => payload.projectId },
);

/**
 * Recomputes a project's critical path. One at a time per project, and debounced: a burst of changes runs it once,
 * shortly after the last.
 */
export const RecalculateCriticalPath = defineJob(
  'tasks:recalculate_critical_path',
  z.object({ projectId: z.string() }),
  {
    group: (payload) => payload.projectId,
    unique: { ttlMs: 60_000, mode: 'debounce', key: (payload) => `critical-path:${payload.projectId}` },
  },
);

/** Applies a Notion page's properties (title, status, priority) to the task it is linked to. */
export const SynchronizePage = defineJob(
  'tasks:synchronize_page',
  z.object({
    deliveryId: z.string(),
    pageId: z.string(),
    taskId: z.string().nullable(),
    properties: z.record(z.string(), z.unknown()),
  }),
  { group: (payload) => `notion:${payload.pageId}` },
);

export const schedulingJobs = [RescheduleDependencies, RecalculateCriticalPath, SynchronizePage] as const;

const NOTION_STATUS: Record<string, 'pending' | 'in_progress' | 'completed'> = {
  'not started': 'pending',
  pending: 'pending',
  'in progress': 'in_progress',
  in_progress: 'in_progress',
  done: 'completed',
  completed: 'completed',
};
const PRIORITIES = new Set(['low', 'medium', 'high', 'urgent']);

/** The task fields a Notion page's properties set, ignoring what does not map. */
export function notionFields(properties: Record<string, unknown>): Record<string, string> {
  const fields: Record<string, string> = {};
  const title = properties['Name'] ?? properties['title'];
  if (typeof title === 'string' && title.trim() !== '') fields['title'] = title.trim().slice(0, 200);
  const status = properties['Status'] ?? properties['status'];
  if (typeof status === 'string' && NOTION_STATUS[status.toLowerCase()]) {
    fields['status'] = NOTION_STATUS[status.toLowerCase()] as string;
  }
  const priority = properties['Priority'] ?? properties['priority'];
  if (typeof priority === 'string' && PRIORITIES.has(priority.toLowerCase()))
    fields['priority'] = priority.toLowerCase();
  return fields;
}
export type SchedulingQueue = JobQueue<(typeof schedulingJobs)[number], ClientBase>;

/** How long a critical-path recalculation waits for more changes before it runs. */
export const CRITICAL_PATH_DEBOUNCE_MS = 300;

const DAY_MS = 86_400_000;
const addDays = (date: string, days: number): string =>
  new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
const daysBetween = (from: string, to: string): number =>
  Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS);

interface DatedTask {
  id: string;
  start_date: string | null;
  end_date: string | null;
}

/**
 * The job handlers. Rescheduling walks the dependents of the moved task in dependency order and shifts each one
 * that would start on or before a predecessor's end to the day after it, keeping its length; the dates, the
 * `tasks.rescheduled` event and the follow-up critical-path job commit together.
 */
export function schedulingHandlers(pool: Pool, bus: AppBus, jobs: () => SchedulingQueue) {
  return {
    [RescheduleDependencies.type]: async ({
      projectId,
      taskId,
    }: z.infer<typeof RescheduleDependencies.schema>) =>
      inTransaction(pool, async (client) => {
        await client.query('SELECT id FROM projects WHERE id = $1 FOR UPDATE', [projectId]);
        const { rows: tasks } = await client.query<DatedTask>(
          `SELECT id, to_char(start_date, 'YYYY-MM-DD') AS start_date, to_char(end_date, 'YYYY-MM-DD') AS end_date
           FROM tasks WHERE project_id = $1`,
          [projectId],
        );
        const { rows: edges } = await client.query<{ predecessor: string; successor: string }>(
          `SELECT d.depends_on AS predecessor, d.task_id AS successor
           FROM task_dependencies d JOIN tasks t ON t.id = d.task_id WHERE t.project_id = $1`,
          [projectId],
        );
        const byId = new Map(tasks.map((task) => [task.id, { ...task }]));
        const successors = new Map<string, string[]>();
        const predecessors = new Map<string, string[]>();
        for (const { predecessor, successor } of edges) {
          successors.set(predecessor, [...(successors.get(predecessor) ?? []), successor]);
          predecessors.set(successor, [...(predecessors.get(successor) ?? []), predecessor]);
        }
        // Breadth first from the moved task; a task is visited again when another predecessor moved it later.
        const moved: Array<{ taskId: string; startDate: string; endDate: string }> = [];
        const queue = [...(successors.get(taskId) ?? [])];
        for (let guard = 0; queue.length > 0 && guard < 100_000; guard++) {
          const id = queue.shift() as string;
          const task = byId.get(id);
          if (task === undefined || task.start_date === null) continue;
          let latestEnd: string | null = null;
          for (const predecessorId of predecessors.get(id) ?? []) {
            const end = byId.get(predecessorId)?.end_date ?? null;
            if (end !== null && (latestEnd === null || end > latestEnd)) latestEnd = end;
          }
          if (latestEnd === null || task.start_date > latestEnd) continue;
          const shift = daysBetween(task.start_date, latestEnd) + 1;
          task.start_date = addDays(task.start_date, shift);
          task.end_date = task.end_date === null ? null : addDays(task.end_date, shift);
          const index = moved.findIndex((entry) => entry.taskId === id);
          const entry = { taskId: id, startDate: task.start_date, endDate: task.end_date ?? task.start_date };
          if (index >= 0) moved[index] = entry;
          else moved.push(entry);
          queue.push(...(successors.get(id) ?? []));
        }
        if (moved.length === 0) return { moved: 0 };
        for (const entry of moved) {
          await client.query(
            `UPDATE tasks SET start_date = $2, end_date = $3, version = version + 1, updated_at = now() WHERE id = $1`,
            [entry.taskId, entry.startDate, byId.get(entry.taskId)?.end_date ?? null],
          );
        }
        await bus.publish(
          TasksRescheduled,
          { projectId, cause: taskId, tasks: moved },
          { transaction: client },
        );
        await jobs().enqueue(
          RecalculateCriticalPath,
          { projectId },
          { transaction: client, delayMs: CRITICAL_PATH_DEBOUNCE_MS },
        );
        return { moved: moved.length };
      }),

    [SynchronizePage.type]: async ({ taskId, properties }: z.infer<typeof SynchronizePage.schema>) =>
      inTransaction(pool, async (client) => {
        if (taskId === null) return { applied: 0 };
        const fields = notionFields(properties);
        const { rows } = await client.query<{ project_id: string }>(
          'SELECT project_id FROM tasks WHERE id = $1 FOR UPDATE',
          [taskId],
        );
        const task = rows[0];
        if (task === undefined || Object.keys(fields).length === 0) return { applied: 0 };
        await client.query(
          `UPDATE tasks SET title = COALESCE($2, title), status = COALESCE($3, status),
             priority = COALESCE($4, priority), version = version + 1, updated_at = now() WHERE id = $1`,
          [taskId, fields['title'] ?? null, fields['status'] ?? null, fields['priority'] ?? null],
        );
        await bus.publish(
          TaskPropertiesUpdated,
          { taskId, projectId: task.project_id, source: 'notion', properties: fields },
          { transaction: client, subject: taskId },
        );
        return { applied: Object.keys(fields).length };
      }),

    [RecalculateCriticalPath.type]: async ({ projectId }: z.infer<typeof RecalculateCriticalPath.schema>) =>
      inTransaction(pool, async (client) => {
        const { rows: tasks } = await client.query<{ id: string; duration_days: number }>(
          'SELECT id, duration_days FROM tasks WHERE project_id = $1 FOR UPDATE',
          [projectId],
        );
        const { rows: edges } = await client.query<{ predecessor: string; successor: string }>(
          `SELECT d.depends_on AS predecessor, d.task_id AS successor
           FROM task_dependencies d JOIN tasks t ON t.id = d.task_id WHERE t.project_id = $1`,
          [projectId],
        );
        const result = criticalPath(
          tasks.map((task) => ({ id: task.id, durationDays: task.duration_days })),
          edges,
        );
        const critical = [...result.timings].filter(([, timing]) => timing.critical).map(([id]) => id);
        await client.query('UPDATE tasks SET is_critical = (id = ANY($2::text[])) WHERE project_id = $1', [
          projectId,
          critical,
        ]);
        await bus.publish(
          CriticalPathCalculated,
          {
            projectId,
            durationDays: result.durationDays,
            criticalPath: [...result.criticalPath],
            calculatedAt: new Date().toISOString(),
          },
          { transaction: client },
        );
        return { durationDays: result.durationDays, critical: critical.length };
      }),
  };
}

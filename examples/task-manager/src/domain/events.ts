import { defineEvent } from '@relaybus/core';
import { z } from 'zod';

/**
 * The task manager's events: typed, validated on publish and on consume, keyed so that one task's (or project's,
 * or user's) events are handled in order. `task.created` is at version 2; its upcaster turns stored version-1 events
 * (a free-text `assignee`, no status, priority or dates) into version 2 when they are read, so old logs still replay.
 */

const id = z.string().min(1);
const date = z.iso.date();
export const TaskStatus = z.enum(['pending', 'in_progress', 'completed']);
export const TaskPriority = z.enum(['low', 'medium', 'high', 'urgent']);

const byTask = { key: (data: { taskId: string }) => data.taskId };
const byProject = { key: (data: { projectId: string }) => data.projectId };

export const UserCreated = defineEvent(
  'user.created',
  z.object({ userId: id, email: z.email(), name: z.string().min(1) }),
  { key: (data) => data.userId },
);

/** Version 1, as stored by the first release: kept to upcast old events. */
export const TaskCreatedV1 = z.object({
  taskId: id,
  projectId: id,
  title: z.string().min(1),
  assignee: z.string().optional(),
});

export const TaskCreated = defineEvent(
  'task.created',
  z.object({
    taskId: id,
    projectId: id,
    title: z.string().min(1),
    description: z.string(),
    status: TaskStatus,
    priority: TaskPriority,
    assigneeId: id.nullable(),
    startDate: date.nullable(),
    endDate: date.nullable(),
    durationDays: z.number().int().min(0),
    createdBy: id.nullable(),
  }),
  {
    ...byTask,
    version: 2,
    upcast: {
      1: (payload) => {
        const v1 = TaskCreatedV1.parse(payload);
        return {
          taskId: v1.taskId,
          projectId: v1.projectId,
          title: v1.title,
          description: '',
          status: 'pending',
          priority: 'medium',
          assigneeId: v1.assignee ?? null,
          startDate: null,
          endDate: null,
          durationDays: 1,
          createdBy: null,
        };
      },
    },
  },
);

/** Field by field, what an edit changed. */
const change = z.object({ from: z.unknown(), to: z.unknown() });

export const TaskUpdated = defineEvent(
  'task.updated',
  z.object({
    taskId: id,
    projectId: id,
    version: z.number().int().min(1),
    changes: z.record(z.string(), change),
  }),
  byTask,
);
export const TaskStatusChanged = defineEvent(
  'task.status_changed',
  z.object({ taskId: id, projectId: id, from: TaskStatus, to: TaskStatus }),
  byTask,
);
export const TaskCompleted = defineEvent(
  'task.completed',
  z.object({ taskId: id, projectId: id, completedAt: z.iso.datetime(), completedBy: id.nullable() }),
  byTask,
);
export const TaskDeleted = defineEvent('task.deleted', z.object({ taskId: id, projectId: id }), byTask);
export const TaskPriorityChanged = defineEvent(
  'task.priority_changed',
  z.object({ taskId: id, projectId: id, from: TaskPriority, to: TaskPriority }),
  byTask,
);
export const TaskAssigned = defineEvent(
  'task.assigned',
  z.object({ taskId: id, projectId: id, assigneeId: id.nullable(), previousAssigneeId: id.nullable() }),
  byTask,
);
export const TaskCollaboratorsUpdated = defineEvent(
  'task.collaborators_updated',
  z.object({ taskId: id, projectId: id, added: z.array(id), removed: z.array(id) }),
  byTask,
);
export const TaskWatchersUpdated = defineEvent(
  'task.watchers_updated',
  z.object({ taskId: id, projectId: id, added: z.array(id), removed: z.array(id) }),
  byTask,
);
export const TaskDependencyAdded = defineEvent(
  'task.dependency_added',
  z.object({ taskId: id, projectId: id, dependsOn: id }),
  byTask,
);
export const TaskDependencyRemoved = defineEvent(
  'task.dependency_removed',
  z.object({ taskId: id, projectId: id, dependsOn: id }),
  byTask,
);
export const TaskPropertiesUpdated = defineEvent(
  'task.properties_updated',
  z.object({
    taskId: id,
    projectId: id,
    source: z.enum(['notion']),
    properties: z.record(z.string(), z.unknown()),
  }),
  byTask,
);
export const NotionWebhookReceived = defineEvent(
  'webhook.notion_received',
  z.object({
    deliveryId: id,
    pageId: id,
    taskId: id.nullable(),
    properties: z.record(z.string(), z.unknown()),
  }),
  { key: (data) => data.pageId },
);
export const TasksRescheduled = defineEvent(
  'tasks.rescheduled',
  z.object({
    projectId: id,
    cause: id,
    tasks: z.array(z.object({ taskId: id, startDate: date, endDate: date })),
  }),
  byProject,
);
export const CriticalPathCalculated = defineEvent(
  'project.critical_path_calculated',
  z.object({
    projectId: id,
    durationDays: z.number().min(0),
    criticalPath: z.array(id),
    calculatedAt: z.iso.datetime(),
  }),
  byProject,
);
export const NotificationSent = defineEvent(
  'notification.sent',
  z.object({
    notificationId: id,
    channel: z.enum(['log', 'email', 'sms']),
    recipient: z.string(),
    subject: z.string(),
    cause: id,
    taskId: id.nullable(),
  }),
  { key: (data) => data.recipient },
);

/** Every event of the task manager, for `createEventBus({ events })`. */
export const catalog = [
  UserCreated,
  TaskCreated,
  TaskUpdated,
  TaskStatusChanged,
  TaskCompleted,
  TaskDeleted,
  TaskPriorityChanged,
  TaskAssigned,
  TaskCollaboratorsUpdated,
  TaskWatchersUpdated,
  TaskDependencyAdded,
  TaskDependencyRemoved,
  TaskPropertiesUpdated,
  NotionWebhookReceived,
  TasksRescheduled,
  CriticalPathCalculated,
  NotificationSent,
] as const;

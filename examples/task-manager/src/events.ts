import { defineEvent } from '@relaybus/core';
import { z } from 'zod';

export const TaskCreated = defineEvent(
  'task.created',
  z.object({
    taskId: z.string(),
    projectId: z.string(),
    title: z.string().min(1),
    assignee: z.string().optional(),
  }),
  { key: (data) => data.taskId },
);

export const TaskCompleted = defineEvent(
  'task.completed',
  z.object({ taskId: z.string(), projectId: z.string(), completedAt: z.iso.datetime() }),
  { key: (data) => data.taskId },
);

export const NotificationSent = defineEvent(
  'notification.sent',
  z.object({ taskId: z.string(), channel: z.enum(['log', 'email', 'sms']), text: z.string() }),
);

export const catalog = [TaskCreated, TaskCompleted, NotificationSent] as const;

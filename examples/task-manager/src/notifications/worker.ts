import { type EventOf, uuidv7 } from '@relaybus/core';
import type { Inbox } from '@relaybus/outbox-pg';
import type { ClientBase, Pool } from 'pg';
import { NotificationSent, TaskAssigned, TaskCompleted, TaskCreated, UserCreated } from '../domain/events';
import type { AppBus } from '../domain/task-service';
import type { EmailSender, SmsSender } from './senders';

type Noticed = EventOf<typeof UserCreated | typeof TaskCreated | typeof TaskAssigned | typeof TaskCompleted>;

/** The events the notification worker turns into notices. */
export const NOTIFIED_EVENTS = [UserCreated, TaskCreated, TaskAssigned, TaskCompleted] as const;

interface Notice {
  readonly userId: string;
  readonly subject: string;
  readonly taskId: string | null;
  /** Also by text message, to users with a phone number (urgent assignments). */
  readonly urgent?: boolean;
}

async function watchersOf(client: ClientBase, taskId: string): Promise<string[]> {
  const { rows } = await client.query<{ watchers: string[] }>('SELECT watchers FROM tasks WHERE id = $1', [
    taskId,
  ]);
  return rows[0]?.watchers ?? [];
}

/** Who hears about an event, and what they are told. */
async function noticesFor(client: ClientBase, event: Noticed): Promise<Notice[]> {
  switch (event.type) {
    case 'user.created':
      return [
        {
          userId: event.data.userId,
          subject: `Welcome to the task manager, ${event.data.name}`,
          taskId: null,
        },
      ];
    case 'task.created': {
      const { assigneeId, title, taskId } = event.data;
      return assigneeId === null
        ? []
        : [{ userId: assigneeId, subject: `New task for you: "${title}"`, taskId }];
    }
    case 'task.assigned': {
      const { assigneeId, taskId } = event.data;
      if (assigneeId === null) return [];
      const { rows } = await client.query<{ priority: string }>('SELECT priority FROM tasks WHERE id = $1', [
        taskId,
      ]);
      const urgent = rows[0]?.priority === 'urgent';
      return [
        {
          userId: assigneeId,
          subject: `${urgent ? 'An urgent' : 'A'} task was assigned to you`,
          taskId,
          urgent,
        },
      ];
    }
    case 'task.completed': {
      const { taskId } = event.data;
      const { rows } = await client.query<{ assignee_id: string | null; title: string }>(
        'SELECT assignee_id, title FROM tasks WHERE id = $1',
        [taskId],
      );
      const task = rows[0];
      if (task === undefined) return [];
      const people = new Set([
        ...(task.assignee_id === null ? [] : [task.assignee_id]),
        ...(await watchersOf(client, taskId)),
      ]);
      return [...people].map((userId) => ({ userId, subject: `"${task.title}" is completed`, taskId }));
    }
  }
}

/**
 * The notification worker's handler: for each event, through the inbox (so a redelivered event has no second
 * effect), records each notice, sends it, and publishes `notification.sent`, all in one transaction: a failed send
 * rolls everything back and the event is retried.
 */
export function notificationHandler(deps: {
  pool: Pool;
  inbox: Inbox;
  bus: AppBus;
  email: EmailSender;
  sms?: SmsSender | undefined;
}) {
  return async (event: Noticed): Promise<void> => {
    await deps.inbox.handle('notifications', event, async (client) => {
      for (const notice of await noticesFor(client, event)) {
        const { rows } = await client.query<{ email: string; phone: string | null }>(
          'SELECT email, phone FROM users WHERE id = $1',
          [notice.userId],
        );
        const address = rows[0]?.email;
        if (address === undefined) continue;
        const phone = rows[0]?.phone ?? null;
        if (notice.urgent && phone !== null && deps.sms !== undefined) {
          await deps.sms.send({ to: phone, text: notice.subject });
        }
        const notificationId = uuidv7();
        await deps.email.send({
          to: address,
          subject: notice.subject,
          text: `${notice.subject}\n\n— task-manager`,
        });
        await client.query(
          `INSERT INTO notifications (id, user_id, channel, subject, cause, task_id) VALUES ($1, $2, $3, $4, $5, $6)`,
          [notificationId, notice.userId, deps.email.channel, notice.subject, event.id, notice.taskId],
        );
        await deps.bus.publish(
          NotificationSent,
          {
            notificationId,
            channel: deps.email.channel,
            recipient: notice.userId,
            subject: notice.subject,
            cause: event.id,
            taskId: notice.taskId,
          },
          { transaction: client },
        );
      }
    });
  };
}

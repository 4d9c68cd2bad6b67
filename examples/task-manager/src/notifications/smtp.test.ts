import { createEventBus, memoryTransport } from '@relaybus/core';
import { createInbox, postgresEventStore } from '@relaybus/outbox-pg';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase, RELAYBUS_SCHEMA } from '../db/database';
import { catalog, TaskAssigned, TaskCreated } from '../domain/events';
import type { AppBus } from '../domain/task-service';
import { logEmailSender, type SmsSender, smtpEmailSender } from './senders';
import { notificationHandler } from './worker';

interface Received {
  readonly to: string[];
  readonly raw: string;
}

// A real SMTP server on a loopback port: nodemailer speaks SMTP to it over TCP.
const received: Received[] = [];
const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  onData(stream, session, callback) {
    let raw = '';
    stream.on('data', (chunk: Buffer) => {
      raw += chunk.toString('utf8');
    });
    stream.on('end', () => {
      received.push({ to: session.envelope.rcptTo.map((rcpt) => rcpt.address), raw });
      callback();
    });
  },
});
let port = 0;
let db: Database;
let bus: AppBus;

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.server.address() as { port: number }).port;
  db = await openDatabase({ kind: 'pglite', dataDir: undefined });
  bus = createEventBus({
    events: catalog,
    transport: memoryTransport(),
    store: postgresEventStore({ pool: db.pool, schema: RELAYBUS_SCHEMA }),
  });
  await db.pool.query(`
    INSERT INTO users (id, email, name, password_hash, phone) VALUES ('u-grace', 'grace@example.com', 'Grace', 'x', '+15550100');
    INSERT INTO projects (id, name, owner_id) VALUES ('p1', 'Launch', 'u-grace');
    INSERT INTO tasks (id, project_id, title, status, priority) VALUES
      ('t-urgent', 'p1', 'Fix the outage', 'pending', 'urgent'), ('t-calm', 'p1', 'Tidy up', 'pending', 'low');
  `);
}, 120_000);
afterAll(async () => {
  await bus?.close();
  await db?.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('notifications over SMTP', () => {
  it('mails the assignee once, even when the event is delivered twice', async () => {
    const email = smtpEmailSender(`smtp://127.0.0.1:${port}`, 'task-manager <tasks@example.com>');
    const handle = notificationHandler({
      pool: db.pool,
      inbox: createInbox({ pool: db.pool, schema: RELAYBUS_SCHEMA }),
      bus,
      email,
    });
    const event = TaskCreated.create({
      taskId: 't1',
      projectId: 'p1',
      title: 'Write the linker',
      description: '',
      status: 'pending',
      priority: 'high',
      assigneeId: 'u-grace',
      startDate: null,
      endDate: null,
      durationDays: 3,
      createdBy: 'u-grace',
    });
    await handle(event);
    await handle(event); // a redelivery: the inbox has it, nothing is sent again
    email.close();
    expect(received).toHaveLength(1);
    expect(received[0]?.to).toEqual(['grace@example.com']);
    expect(received[0]?.raw).toMatch(/^Subject: =\?UTF-8\?Q\?New_task_for_you=3A_=22Write_the_linker/m);
    expect(received[0]?.raw).toContain('New task for you: "Write the linker"'); // the body
    expect(received[0]?.raw).toContain('From: "task-manager" <tasks@example.com>');
    const { rows } = await db.pool.query('SELECT user_id, channel FROM notifications');
    expect(rows).toEqual([{ user_id: 'u-grace', channel: 'email' }]);
  });

  it('rolls back and retries when the SMTP server refuses: no notice is recorded for a mail not sent', async () => {
    const email = smtpEmailSender('smtp://127.0.0.1:1', 'tasks@example.com');
    const handle = notificationHandler({
      pool: db.pool,
      inbox: createInbox({ pool: db.pool, schema: RELAYBUS_SCHEMA }),
      bus,
      email,
    });
    const event = TaskCreated.create({
      taskId: 't2',
      projectId: 'p1',
      title: 'Unsent',
      description: '',
      status: 'pending',
      priority: 'low',
      assigneeId: 'u-grace',
      startDate: null,
      endDate: null,
      durationDays: 1,
      createdBy: 'u-grace',
    });
    await expect(handle(event)).rejects.toThrow(/ECONNREFUSED|connect/);
    email.close();
    const { rows } = await db.pool.query("SELECT 1 FROM notifications WHERE task_id = 't2'");
    expect(rows).toEqual([]);
  });

  it('also texts the assignee of an urgent task, once, when they have a phone number', async () => {
    const texts: Array<{ to: string; text: string }> = [];
    const sms: SmsSender = {
      send: async (message) => {
        texts.push(message);
        return { messageId: `sms-${texts.length}` };
      },
    };
    const quiet = { debug() {}, info() {}, warn() {}, error() {} };
    const handle = notificationHandler({
      pool: db.pool,
      inbox: createInbox({ pool: db.pool, schema: RELAYBUS_SCHEMA }),
      bus,
      email: logEmailSender(quiet),
      sms,
    });
    const assign = (taskId: string) =>
      TaskAssigned.create({ taskId, projectId: 'p1', assigneeId: 'u-grace', previousAssigneeId: null });
    const urgent = assign('t-urgent');
    await handle(urgent);
    await handle(urgent);
    await handle(assign('t-calm'));
    expect(texts).toEqual([{ to: '+15550100', text: 'An urgent task was assigned to you' }]);
  });
});

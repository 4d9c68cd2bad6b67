import { createEventBus, type StoredEvent } from '@relaybus/core';
import { postgresEventStore } from '@relaybus/outbox-pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase, RELAYBUS_SCHEMA } from '../db/database';
import { ConflictError, NotFoundError, StaleVersionError } from './errors';
import { catalog } from './events';
import { type AppBus, TaskService } from './task-service';

// The service on PGlite (embedded Postgres, in memory): the same SQL as on a server, and no server needed.
let db: Database;
let bus: AppBus;
let service: TaskService;
const store = () => postgresEventStore({ pool: db.pool, schema: RELAYBUS_SCHEMA });

beforeAll(async () => {
  db = await openDatabase({ kind: 'pglite', dataDir: undefined });
  bus = createEventBus({ events: catalog, store: store() });
  service = new TaskService(db.pool, bus);
  await db.pool.query(`
    INSERT INTO users (id, email, name, password_hash) VALUES
      ('u-ada', 'ada@example.com', 'Ada', 'x'), ('u-grace', 'grace@example.com', 'Grace', 'x'),
      ('u-eve', 'eve@example.com', 'Eve', 'x');
    INSERT INTO projects (id, name, owner_id) VALUES ('p1', 'Launch', 'u-ada'), ('p2', 'Secret', 'u-eve');
    INSERT INTO project_members (project_id, user_id) VALUES ('p1', 'u-ada'), ('p1', 'u-grace'), ('p2', 'u-eve');
  `);
}, 120_000);
afterAll(async () => {
  await bus?.close();
  await db?.close();
});

async function eventsOf(taskId: string): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  for await (const event of store().readAll()) if (event.subject === taskId) events.push(event);
  return events;
}

describe('TaskService on PGlite', () => {
  it('creates a task and its task.created event in one transaction', async () => {
    const task = await service.create('u-ada', {
      projectId: 'p1',
      title: 'Write docs',
      assigneeId: 'u-grace',
    });
    expect(task).toMatchObject({ title: 'Write docs', status: 'pending', version: 1, assigneeId: 'u-grace' });
    const events = await eventsOf(task.id);
    expect(events.map((event) => event.type)).toEqual(['task.created']);
    expect(events[0]?.data).toMatchObject({ taskId: task.id, createdBy: 'u-ada', assigneeId: 'u-grace' });
  });

  it('refuses an edit made against a stale version, changing nothing and publishing nothing', async () => {
    const task = await service.create('u-ada', { projectId: 'p1', title: 'Stale' });
    await service.update('u-ada', task.id, 1, { title: 'Fresh' });
    const error = await service
      .update('u-grace', task.id, 1, { title: 'Lost update' })
      .catch((caught) => caught);
    expect(error).toBeInstanceOf(StaleVersionError);
    expect(error).toMatchObject({ expected: 1, current: 2 });
    expect((await service.get('u-ada', task.id)).title).toBe('Fresh');
    expect((await eventsOf(task.id)).map((event) => event.type)).toEqual(['task.created', 'task.updated']);
  });

  it('publishes the changed fields as a diff, and the specific event of each change', async () => {
    const task = await service.create('u-ada', { projectId: 'p1', title: 'Ship', priority: 'low' });
    const after = await service.update('u-ada', task.id, 1, {
      status: 'completed',
      priority: 'urgent',
      assigneeId: 'u-grace',
      watchers: ['u-ada'],
      title: 'Ship',
    });
    expect(after.version).toBe(2);
    const events = await eventsOf(task.id);
    expect(events.map((event) => event.type)).toEqual([
      'task.created',
      'task.updated',
      'task.status_changed',
      'task.completed',
      'task.priority_changed',
      'task.assigned',
      'task.watchers_updated',
    ]);
    expect(events[1]?.data).toEqual({
      taskId: task.id,
      projectId: 'p1',
      version: 2,
      changes: {
        status: { from: 'pending', to: 'completed' },
        priority: { from: 'low', to: 'urgent' },
        assigneeId: { from: null, to: 'u-grace' },
        watchers: { from: [], to: ['u-ada'] },
      },
    });
    expect(events[6]?.data).toMatchObject({ added: ['u-ada'], removed: [] });
  });

  it('rejects a dependency that would close a cycle, naming it, and keeps the others', async () => {
    const [a, b, c] = await Promise.all(
      ['A', 'B', 'C'].map((title) => service.create('u-ada', { projectId: 'p1', title })),
    );
    if (!a || !b || !c) throw new Error('tasks not created');
    await service.addDependency('u-ada', b.id, a.id);
    await service.addDependency('u-ada', c.id, b.id);
    const error = await service.addDependency('u-ada', a.id, c.id).catch((caught) => caught);
    expect(error).toBeInstanceOf(ConflictError);
    const cycle = error.details.cycle as string[];
    expect(cycle).toHaveLength(4);
    expect(cycle[0]).toBe(cycle[3]);
    expect(new Set(error.details.cycle)).toEqual(new Set([a.id, b.id, c.id]));
    expect(error.message).toContain('cycle');
    expect((await service.get('u-ada', a.id)).dependsOn).toEqual([]);
    expect((await service.get('u-ada', c.id)).dependsOn).toEqual([b.id]);
  });

  it('hides projects and tasks of others: not found, not forbidden', async () => {
    const secret = await service.create('u-eve', { projectId: 'p2', title: 'Secret' });
    await expect(service.get('u-ada', secret.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(service.create('u-ada', { projectId: 'p2', title: 'Sneak' })).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(service.list('u-ada', 'p2', { limit: 10 })).rejects.toBeInstanceOf(NotFoundError);
  });

  it('pages a project’s tasks with a cursor, every task once', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await service.list('u-grace', 'p1', { limit: 2, cursor });
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((task) => task.id));
      cursor = page.next ?? undefined;
    } while (cursor !== undefined);
    const all = await service.list('u-grace', 'p1', { limit: 100 });
    expect(seen).toEqual(all.items.map((task) => task.id));
    expect(new Set(seen).size).toBe(seen.length);
  });
});

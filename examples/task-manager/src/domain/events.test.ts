import {
  defineProjection,
  type Envelope,
  memoryCheckpointStore,
  memoryEventStore,
  memoryReadModel,
  type ProjectionContext,
  startProjection,
  uuidv7,
} from '@relaybus/core';
import { describe, expect, it } from 'vitest';
import { catalog, TaskCreated } from './events';

describe('the task manager catalog', () => {
  it('has the 17 event types, each once', () => {
    const types = catalog.map((definition) => definition.type);
    expect(new Set(types).size).toBe(17);
    expect(types).toContain('project.critical_path_calculated');
  });

  it('replays a task.created stored at version 1 as version 2, next to a version-2 one', async () => {
    const store = memoryEventStore();
    const stored: Envelope = {
      id: uuidv7(),
      type: 'task.created',
      version: 1,
      source: 'task-manager@0.1',
      time: '2026-01-05T10:00:00.000Z',
      key: 't-old',
      data: { taskId: 't-old', projectId: 'p1', title: 'Written by the first release', assignee: 'ada' },
      metadata: {},
    } as Envelope;
    await store.append('task-t-old', [stored]);
    await store.append('task-t-new', [
      TaskCreated.create({
        taskId: 't-new',
        projectId: 'p1',
        title: 'Written now',
        description: 'v2',
        status: 'in_progress',
        priority: 'high',
        assigneeId: 'u-grace',
        startDate: '2026-02-01',
        endDate: '2026-02-03',
        durationDays: 2,
        createdBy: 'u-ada',
      }),
    ]);
    type Seen = Map<string, { version: number; assigneeId: string | null; status: string }>;
    const seen = memoryReadModel((): Seen => new Map());
    const projection = defineProjection({
      name: 'upcast-check',
      events: [TaskCreated],
      handlers: {
        'task.created': (event, { model }: ProjectionContext<Seen>) =>
          void model.set(event.data.taskId, {
            version: event.version,
            assigneeId: event.data.assigneeId,
            status: event.data.status,
          }),
      },
    });
    const handle = startProjection(projection, { store, checkpoints: memoryCheckpointStore(), model: seen });
    try {
      await handle.caughtUp();
      expect(Object.fromEntries(seen.current())).toEqual({
        't-old': { version: 2, assigneeId: 'ada', status: 'pending' },
        't-new': { version: 2, assigneeId: 'u-grace', status: 'in_progress' },
      });
    } finally {
      await handle.close();
    }
  });
});

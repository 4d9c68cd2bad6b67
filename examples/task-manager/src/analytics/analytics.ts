import { type EventStore, type ReplayProgress, replay, type StoredEvent } from '@relaybus/core';
import { TaskCompleted, TaskCreated, TaskDeleted } from '../domain/events';

/** Counters of one user or project. */
export interface Counters {
  created: number;
  completed: number;
  /** Sum of creation → completion times, in ms, over the completed tasks. */
  completionMsTotal: number;
}

/** The analytics read model: per user (creator) and per project, and what it needs to compute completion times. */
export interface Analytics {
  byUser: Record<string, Counters>;
  byProject: Record<string, Counters>;
  /** Open tasks: when they were created, by whom, in which project. */
  open: Record<string, { createdAt: number; createdBy: string | null; projectId: string }>;
  /** Ids of the events applied, so an event delivered twice counts once. */
  applied: Record<string, true>;
}

/** The event types analytics reads. */
export const ANALYTICS_EVENTS = [TaskCreated.type, TaskCompleted.type, TaskDeleted.type];

export function emptyAnalytics(): Analytics {
  return { byUser: {}, byProject: {}, open: {}, applied: {} };
}

const counters = (map: Record<string, Counters>, key: string): Counters => {
  map[key] ??= { created: 0, completed: 0, completionMsTotal: 0 };
  return map[key];
};

/**
 * Applies one event to the model; the same function serves the live worker (events from the bus) and the rebuild
 * (events from the log), so both reach the same model. An event applied before is skipped.
 */
export function applyAnalytics(
  model: Analytics,
  event: Pick<StoredEvent, 'id' | 'type' | 'time'> & { readonly data: unknown },
): void {
  if (model.applied[event.id]) return;
  model.applied[event.id] = true;
  if (event.type === TaskCreated.type) {
    const data = event.data as { taskId: string; projectId: string; createdBy: string | null };
    model.open[data.taskId] = {
      createdAt: Date.parse(event.time),
      createdBy: data.createdBy,
      projectId: data.projectId,
    };
    counters(model.byProject, data.projectId).created++;
    if (data.createdBy !== null) counters(model.byUser, data.createdBy).created++;
  } else if (event.type === TaskCompleted.type) {
    const data = event.data as { taskId: string; projectId: string; completedAt: string };
    const open = model.open[data.taskId];
    if (open === undefined) return;
    delete model.open[data.taskId];
    const took = Math.max(0, Date.parse(data.completedAt) - open.createdAt);
    for (const target of [
      counters(model.byProject, open.projectId),
      ...(open.createdBy === null ? [] : [counters(model.byUser, open.createdBy)]),
    ]) {
      target.completed++;
      target.completionMsTotal += took;
    }
  } else if (event.type === TaskDeleted.type) {
    delete model.open[(event.data as { taskId: string }).taskId];
  }
}

/** What the API shows: counters with the average completion time, without the bookkeeping. */
export function analyticsView(model: Analytics) {
  const view = (map: Record<string, Counters>) =>
    Object.fromEntries(
      Object.entries(map)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([key, value]) => [
          key,
          {
            created: value.created,
            completed: value.completed,
            averageCompletionMs:
              value.completed === 0 ? null : Math.round(value.completionMsTotal / value.completed),
          },
        ]),
    );
  return { byUser: view(model.byUser), byProject: view(model.byProject) };
}

/** Rebuilds the model from the whole event log, reporting progress. */
export async function rebuildAnalytics(
  store: EventStore,
  onProgress?: (progress: ReplayProgress) => void,
): Promise<Analytics> {
  const model = emptyAnalytics();
  await replay(store, {
    types: ANALYTICS_EVENTS,
    handle: (event) => applyAnalytics(model, event),
    ...(onProgress === undefined ? {} : { onProgress }),
  });
  return model;
}

import { InvalidOptionError } from '../errors';
import type { AnyEventDefinition, EventOf } from '../events/define-event';
import type { StoredEvent } from '../store/event-store';
import { eventCatalog } from './decode-stored-event';

/**
 * What a projection handler receives besides the event.
 *
 * @example
 * ```ts
 * const onCreated = (event: EventOf<typeof TaskCreated>, ctx: ProjectionContext<Map<string, string>>) => {
 *   ctx.model.set(event.data.taskId, event.data.title);
 * };
 * ```
 */
export interface ProjectionContext<TModel> {
  /** The model to write to: the live one normally, the one being built aside during a rebuild. */
  readonly model: TModel;
  /** Global position of the event. */
  readonly position: string;
  /** Whether this call is part of a rebuild (the model is not visible to readers yet). */
  readonly rebuilding: boolean;
  /** Aborted when the projection closes; long handlers should stop early. */
  readonly signal: AbortSignal;
}

/**
 * The handlers of a projection, keyed by event type; each receives its own event type, upcast and validated.
 * Only types listed in the projection's `events` are allowed.
 *
 * @example
 * ```ts
 * const handlers: ProjectionHandlers<typeof TaskCreated, Map<string, string>> = {
 *   'task.created': (event, { model }) => void model.set(event.data.taskId, event.data.title),
 * };
 * ```
 */
export type ProjectionHandlers<TEvents extends AnyEventDefinition, TModel> = {
  readonly [K in TEvents['type']]?: (
    event: StoredEvent<EventOf<Extract<TEvents, { readonly type: K }>>>,
    ctx: ProjectionContext<TModel>,
  ) => void | Promise<void>;
};

/**
 * Options of {@link defineProjection}.
 *
 * @example
 * ```ts
 * const options: DefineProjectionOptions<typeof TaskCreated, Board> = { name: 'task-board', events: [TaskCreated], handlers };
 * ```
 */
export interface DefineProjectionOptions<TEvents extends AnyEventDefinition, TModel> {
  /** Unique name; with `version` it names the checkpoint (`${name}@v${version}`). */
  name: string;
  /**
   * Version of the projection's logic. Bump it when handlers change what they write: the new version has no
   * checkpoint yet, so the projection rebuilds from zero (aside, then swapped in).
   * @defaultValue 1
   */
  version?: number;
  /** The event definitions the projection reads; events of other types are not read at all. */
  events: ReadonlyArray<TEvents>;
  /** One handler per event type, a subset of `events`. */
  handlers: ProjectionHandlers<TEvents, TModel>;
}

/**
 * A projection made by {@link defineProjection}: pure description, started with `startProjection`.
 *
 * @example
 * ```ts
 * console.log(taskBoard.checkpointName); // 'task-board@v2'
 * ```
 */
export interface ProjectionDefinition<
  TEvents extends AnyEventDefinition = AnyEventDefinition,
  TModel = unknown,
> {
  /** The projection's name. */
  readonly name: string;
  /** Version of the projection's logic. */
  readonly version: number;
  /** Name of its checkpoint: `${name}@v${version}`. */
  readonly checkpointName: string;
  /** The event definitions it reads. */
  readonly events: ReadonlyArray<TEvents>;
  /** The event types it reads. */
  readonly types: ReadonlyArray<TEvents['type']>;
  /** Its handlers by event type. */
  readonly handlers: ProjectionHandlers<TEvents, TModel>;
}

/**
 * Defines a projection: handlers that fold events into a read model. The model type comes from annotating `ctx`
 * in one handler (or from explicit type arguments).
 *
 * @throws {@link InvalidOptionError} for an empty name, a bad version, no events, or a handler for an unlisted type.
 * @example
 * ```ts
 * type Board = Map<string, { title: string; done: boolean }>;
 * const taskBoard = defineProjection({
 *   name: 'task-board',
 *   events: [TaskCreated, TaskCompleted],
 *   handlers: {
 *     'task.created': (event, { model }: ProjectionContext<Board>) => {
 *       model.set(event.data.taskId, { title: event.data.title, done: false });
 *     },
 *     'task.completed': (event, { model }) => {
 *       const task = model.get(event.data.taskId);
 *       if (task) task.done = true;
 *     },
 *   },
 * });
 * ```
 */
export function defineProjection<TEvents extends AnyEventDefinition, TModel = unknown>(
  options: DefineProjectionOptions<TEvents, TModel>,
): ProjectionDefinition<TEvents, TModel> {
  const where = `defineProjection("${String(options?.name)}")`;
  if (typeof options?.name !== 'string' || options.name.trim() === '') {
    throw new InvalidOptionError(where, 'name', 'must be a non-empty string');
  }
  const version = options.version ?? 1;
  if (!Number.isInteger(version) || version < 1) {
    throw new InvalidOptionError(where, 'version', `must be an integer >= 1, got ${String(options.version)}`);
  }
  const catalog = eventCatalog(where, options.events);
  const handlers: Record<string, unknown> = options.handlers ?? {};
  for (const [type, handler] of Object.entries(handlers)) {
    if (!catalog.has(type)) {
      throw new InvalidOptionError(
        where,
        `handlers.${type}`,
        `is for a type missing from events; add its definition`,
      );
    }
    if (typeof handler !== 'function')
      throw new InvalidOptionError(where, `handlers.${type}`, 'must be a function');
  }
  return {
    name: options.name,
    version,
    checkpointName: `${options.name}@v${version}`,
    events: [...options.events],
    types: options.events.map((definition) => definition.type),
    handlers: options.handlers,
  };
}

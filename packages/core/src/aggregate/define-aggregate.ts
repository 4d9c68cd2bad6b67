import { InvalidOptionError } from '../errors';
import type { AnyEventDefinition, EventOf } from '../events/define-event';
import { eventCatalog } from '../projection/decode-stored-event';

/**
 * When an aggregate takes snapshots, and the shape version of its state.
 *
 * @example
 * ```ts
 * const policy: AggregateSnapshotPolicy = { schemaVersion: 2, every: 50 };
 * ```
 */
export interface AggregateSnapshotPolicy {
  /** Version of the state's shape. Bump it when `evolve` or the state changes: older snapshots are then ignored. */
  schemaVersion: number;
  /**
   * Take a snapshot on save once this many events were appended since the last snapshot.
   * @defaultValue 100
   */
  every?: number;
}

/**
 * Options of {@link defineAggregate}.
 *
 * @example
 * ```ts
 * const options: DefineAggregateOptions<TaskState, typeof TaskCreated> = {
 *   name: 'task', events: [TaskCreated], initialState: () => ({ title: '' }), evolve: (s, e) => ({ title: e.data.title }),
 * };
 * ```
 */
export interface DefineAggregateOptions<TState, TEvents extends AnyEventDefinition> {
  /** The aggregate's name, used in stream names and errors. */
  name: string;
  /** The state of an aggregate that has no events yet. Called for every load, so return a new object. */
  initialState: () => TState;
  /** Folds one event into the state and returns the next state. Keep it pure: it runs on load and on raise. */
  evolve: (state: TState, event: EventOf<TEvents>) => TState;
  /** Every event type the aggregate's streams hold or its commands raise. */
  events: ReadonlyArray<TEvents>;
  /**
   * Snapshot policy; without it, snapshots are neither read nor taken.
   * @defaultValue no snapshots
   */
  snapshot?: AggregateSnapshotPolicy;
  /**
   * The stream of an aggregate id.
   * @defaultValue `(id) => \`${name}-${id}\``
   */
  streamOf?: (id: string) => string;
}

/**
 * An aggregate made by {@link defineAggregate}: how to rebuild its state from events, and where they are stored.
 *
 * @example
 * ```ts
 * Task.streamOf('t1'); // 'task-t1'
 * ```
 */
export interface AggregateDefinition<
  TState = unknown,
  TEvents extends AnyEventDefinition = AnyEventDefinition,
> {
  /** The aggregate's name. */
  readonly name: string;
  /** The event definitions of its streams. */
  readonly events: ReadonlyArray<TEvents>;
  /** Makes the state of a new aggregate. */
  readonly initialState: () => TState;
  /** Folds one event into the state. */
  readonly evolve: (state: TState, event: EventOf<TEvents>) => TState;
  /** Snapshot policy with its defaults applied, or `undefined` without snapshots. */
  readonly snapshot: Readonly<Required<AggregateSnapshotPolicy>> | undefined;
  /** The stream of an aggregate id. */
  streamOf(id: string): string;
}

const DEFAULT_SNAPSHOT_EVERY = 100;

/**
 * Defines an aggregate as plain functions, with no base class: an initial state and an `evolve` reducer over
 * its events. Load it with `loadAggregate`, raise events on the handle, save with `saveAggregate`.
 *
 * @throws {@link InvalidOptionError} for an empty name, missing functions, no events or a bad snapshot policy.
 * @example
 * ```ts
 * const Task = defineAggregate({
 *   name: 'task',
 *   events: [TaskCreated, TaskCompleted],
 *   initialState: () => ({ title: '', done: false }),
 *   evolve: (state, event) => {
 *     switch (event.type) {
 *       case 'task.created': return { ...state, title: event.data.title };
 *       case 'task.completed': return { ...state, done: true };
 *     }
 *   },
 *   snapshot: { schemaVersion: 1, every: 50 },
 * });
 * ```
 */
export function defineAggregate<TState, TEvents extends AnyEventDefinition>(
  options: DefineAggregateOptions<TState, TEvents>,
): AggregateDefinition<TState, TEvents> {
  const name = options?.name;
  const where = `defineAggregate("${String(name)}")`;
  if (typeof name !== 'string' || name.trim() === '') {
    throw new InvalidOptionError(where, 'name', 'must be a non-empty string');
  }
  for (const key of ['initialState', 'evolve'] as const) {
    if (typeof options[key] !== 'function') throw new InvalidOptionError(where, key, 'must be a function');
  }
  eventCatalog(where, options.events);
  const streamOf = options.streamOf ?? ((id: string) => `${name}-${id}`);
  if (typeof streamOf !== 'function') throw new InvalidOptionError(where, 'streamOf', 'must be a function');
  return {
    name,
    events: [...options.events],
    initialState: options.initialState,
    evolve: options.evolve,
    snapshot: options.snapshot === undefined ? undefined : snapshotPolicy(where, options.snapshot),
    streamOf,
  };
}

function snapshotPolicy(where: string, policy: AggregateSnapshotPolicy): Required<AggregateSnapshotPolicy> {
  const { schemaVersion, every = DEFAULT_SNAPSHOT_EVERY } = policy;
  if (!Number.isInteger(schemaVersion) || schemaVersion < 1) {
    throw new InvalidOptionError(
      where,
      'snapshot.schemaVersion',
      `must be an integer >= 1, got ${schemaVersion}`,
    );
  }
  if (!Number.isInteger(every) || every < 1) {
    throw new InvalidOptionError(where, 'snapshot.every', `must be an integer >= 1, got ${every}`);
  }
  return { schemaVersion, every };
}

import { InvalidOptionError } from '../errors';
import type { AnyEventDefinition, EventInput, EventOf } from '../events/define-event';
import type { EnvelopeOptions } from '../events/envelope';
import type { AggregateDefinition } from './define-aggregate';

/**
 * Envelope options of a raised event. The subject is always the aggregate's id.
 *
 * @example
 * ```ts
 * task.raise(TaskCompleted, { taskId: task.id }, { correlationId: request.id });
 * ```
 */
export type RaiseOptions = Omit<EnvelopeOptions, 'subject'>;

/**
 * A loaded aggregate: its state, the stream version it was loaded (or last saved) at, and the events raised
 * since. Made by `loadAggregate`, saved by `saveAggregate`.
 *
 * @example
 * ```ts
 * const task = await loadAggregate(store, Task, 't1');
 * if (!task.state.done) task.raise(TaskCompleted, { taskId: task.id });
 * await saveAggregate(store, task);
 * ```
 */
export interface Aggregate<TState = unknown, TEvents extends AnyEventDefinition = AnyEventDefinition> {
  /** The aggregate's id. */
  readonly id: string;
  /** Its stream. */
  readonly stream: string;
  /** The current state, raised events included. */
  readonly state: TState;
  /**
   * Version of the stream when loaded or last saved through `saveAggregate` (0 for a new aggregate): the expected
   * version of the next append. Raised events that are not saved yet do not count.
   */
  readonly version: number;
  /**
   * Creates an event (validated by its definition, with `subject` set to the id), applies it to `state` at once
   * and keeps it until `pullEvents()`.
   * @throws `ValidationError` for an invalid payload, `InvalidOptionError` for a type the aggregate does not list.
   */
  raise<TDefinition extends TEvents>(
    definition: TDefinition,
    data: EventInput<TDefinition>,
    options?: RaiseOptions,
  ): EventOf<TDefinition>;
  /** Hands over the events raised since the last call, once: a second call returns `[]`. */
  pullEvents(): Array<EventOf<TEvents>>;
}

/** What `saveAggregate` needs beyond the public handle. */
export interface AggregateInternals {
  readonly definition: AggregateDefinition<unknown, AnyEventDefinition>;
  /** Stream version known to be stored. */
  version: number;
  /** Stream version that `state` reflects: `version` plus every event raised since. */
  applied: number;
  /** Stream version of the newest snapshot (0 for none). */
  snapshotVersion: number;
  /** Gives pulled events back after a failed save, so that a retry appends them. */
  restore(events: ReadonlyArray<EventOf<AnyEventDefinition>>): void;
}

const internals = new WeakMap<object, AggregateInternals>();

/** The internals of a handle made by {@link createAggregate}, or `undefined` for anything else. */
export function internalsOf(handle: object): AggregateInternals | undefined {
  return internals.get(handle);
}

/** Makes an aggregate handle at a known state and version. */
export function createAggregate<TState, TEvents extends AnyEventDefinition>(
  definition: AggregateDefinition<TState, TEvents>,
  id: string,
  initial: { state: TState; version: number; snapshotVersion: number },
): Aggregate<TState, TEvents> {
  let state = initial.state;
  let pending: Array<EventOf<TEvents>> = [];
  const known = new Set<AnyEventDefinition>(definition.events);
  const stream = definition.streamOf(id);
  const inner: AggregateInternals = {
    definition: definition as unknown as AggregateDefinition<unknown, AnyEventDefinition>,
    version: initial.version,
    applied: initial.version,
    snapshotVersion: initial.snapshotVersion,
    restore(events) {
      pending = [...(events as Array<EventOf<TEvents>>), ...pending];
    },
  };
  const handle: Aggregate<TState, TEvents> = {
    id,
    stream,
    get state() {
      return state;
    },
    get version() {
      return inner.version;
    },
    raise(eventDefinition, data, options = {}) {
      if (!known.has(eventDefinition)) {
        throw new InvalidOptionError(
          `aggregate "${definition.name}".raise()`,
          'definition',
          `"${String(eventDefinition?.type)}" is not one of the aggregate's events; add it to defineAggregate({ events })`,
        );
      }
      const event = eventDefinition.create(data, { ...options, subject: id }) as EventOf<
        typeof eventDefinition
      >;
      state = definition.evolve(state, event as unknown as EventOf<TEvents>);
      inner.applied += 1;
      pending.push(event as unknown as EventOf<TEvents>);
      return event;
    },
    pullEvents() {
      const events = pending;
      pending = [];
      return events;
    },
  };
  internals.set(handle, inner);
  return handle;
}

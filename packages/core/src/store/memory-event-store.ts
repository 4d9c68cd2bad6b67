import {
  ClosedError,
  InvalidEnvelopeError,
  InvalidOptionError,
  InvalidPositionError,
  StreamNotFoundError,
  UnknownEventError,
  VersionConflictError,
} from '../errors';
import { decodeEnvelope } from '../events/decode-envelope';
import type { AnyEventDefinition } from '../events/define-event';
import { validateSync } from '../events/define-event';
import type { Envelope } from '../events/envelope';
import type {
  AppendOptions,
  AppendResult,
  EventPage,
  EventStore,
  ReadAllOptions,
  ReadStreamOptions,
  StoredEvent,
} from './event-store';
import { assertExpectedVersion, checkAppendArguments } from './expected-version';
import { batchSizeOf, readAllPages } from './read-helpers';

/**
 * Options for {@link memoryEventStore}.
 *
 * @example
 * ```ts
 * const store = memoryEventStore({ events: [TaskCreated, TaskCompleted] });
 * ```
 */
export interface MemoryEventStoreOptions {
  /**
   * When given, appends are checked against this catalog: unknown types and invalid payloads are refused.
   * @defaultValue no check beyond the envelope's shape
   */
  events?: ReadonlyArray<AnyEventDefinition>;
}

const POSITION_DIGITS = 16;
const POSITION_PATTERN = /^\d{16}$/;

/**
 * An event store in process memory: the full {@link EventStore} contract, for tests, embedded apps and
 * benchmarks. Positions are 16-digit zero-padded sequence numbers, so they compare correctly as strings.
 *
 * @example
 * ```ts
 * const store = memoryEventStore();
 * const bus = createEventBus({ events: [TaskCreated], store });
 * ```
 */
export function memoryEventStore(options: MemoryEventStoreOptions = {}): EventStore {
  const log: StoredEvent[] = [];
  const streams = new Map<string, StoredEvent[]>();
  const byId = new Map<string, StoredEvent>();
  const waiters = new Set<() => void>();
  const catalog = options.events === undefined ? undefined : new Map(options.events.map((d) => [d.type, d]));

  function toIndex(position: string | undefined): number {
    if (position === undefined) return 0;
    if (typeof position !== 'string' || !POSITION_PATTERN.test(position)) {
      throw new InvalidPositionError(position, 'memory', `${POSITION_DIGITS} digits`);
    }
    return Number(position);
  }

  function check(envelope: Envelope, index: number): Envelope {
    let event: Envelope;
    try {
      event = decodeEnvelope(envelope);
    } catch (error) {
      throw new InvalidEnvelopeError(`events[${index}]: ${(error as Error).message}`, { cause: error });
    }
    if (catalog !== undefined) {
      const definition = catalog.get(event.type);
      if (definition === undefined)
        throw new UnknownEventError(event.type, [...catalog.keys()], 'in append()');
      if (event.version === definition.version) validateSync(event.type, definition.schema, event.data);
    }
    return event;
  }

  /** The original result when every event was already appended, in order, to this stream. */
  function replayedAppend(stream: string, events: ReadonlyArray<Envelope>): AppendResult | undefined {
    const first = byId.get(events[0]?.id ?? '');
    const known = events.map((event) => byId.get(event.id));
    if (first === undefined) {
      if (known.some((stored) => stored !== undefined)) {
        throw new VersionConflictError(
          stream,
          'any',
          streams.get(stream)?.length ?? 0,
          ' (some of these event ids were already appended)',
        );
      }
      return undefined;
    }
    const matches = known.every(
      (stored, i) =>
        stored !== undefined && stored.stream === stream && stored.streamVersion === first.streamVersion + i,
    );
    if (!matches) {
      throw new VersionConflictError(
        stream,
        'any',
        streams.get(stream)?.length ?? 0,
        ` (event ${first.id} was already appended to "${first.stream}" at version ${first.streamVersion}, with a different batch)`,
      );
    }
    const stored = known as StoredEvent[];
    return result(stream, stored);
  }

  let closed = false;
  const store: EventStore = {
    name: 'memory',
    async append(stream: string, events: ReadonlyArray<Envelope>, appendOptions: AppendOptions = {}) {
      if (closed) throw new ClosedError('the memory event store', `append to "${stream}"`);
      const expected = appendOptions.expectedVersion ?? 'any';
      checkAppendArguments('memory', stream, events, expected);
      if (appendOptions.transaction !== undefined) {
        throw new InvalidOptionError(
          `memory store: append(${JSON.stringify(stream)})`,
          'transaction',
          'is not supported: the memory store has no transactions (each append is atomic on its own)',
        );
      }
      const checked = events.map(check);
      const replayed = replayedAppend(stream, checked);
      if (replayed !== undefined) {
        const previous = (replayed.events[0]?.streamVersion ?? 1) - 1;
        if (expected === 'any' || expected === previous || (expected === 'no_stream' && previous === 0))
          return replayed;
        if (expected === 'stream_exists' && previous > 0) return replayed;
        throw new VersionConflictError(
          stream,
          expected,
          streams.get(stream)?.length ?? 0,
          ` (these events were already appended at version ${previous + 1}, not after the expected one)`,
        );
      }
      const existing = streams.get(stream);
      const actual = existing?.length ?? 0;
      assertExpectedVersion(stream, expected, actual);
      const target = existing ?? [];
      if (existing === undefined) streams.set(stream, target);
      const stored: StoredEvent[] = checked.map((event, i) => {
        const storedEvent: StoredEvent = {
          ...event,
          position: String(log.length + 1 + i).padStart(POSITION_DIGITS, '0'),
          stream,
          streamVersion: actual + 1 + i,
        };
        byId.set(event.id, storedEvent);
        return storedEvent;
      });
      for (const event of stored) {
        log.push(event);
        target.push(event);
      }
      for (const wake of [...waiters]) wake();
      return result(stream, stored);
    },

    async *readStream(stream: string, readOptions: ReadStreamOptions = {}) {
      const events = streams.get(stream);
      if (events === undefined) throw new StreamNotFoundError(stream, 'memory');
      const batchSize = batchSizeOf(`readStream("${stream}")`, readOptions.batchSize);
      let index = Math.max(0, (readOptions.fromVersion ?? 1) - 1);
      while (index < events.length) {
        readOptions.signal?.throwIfAborted();
        const end = Math.min(events.length, index + batchSize);
        for (; index < end; index++) yield events[index] as StoredEvent;
        await Promise.resolve();
      }
    },

    readAll(readOptions: ReadAllOptions = {}) {
      return readAllPages(store, readOptions);
    },

    async readPage({ from, types, limit }): Promise<EventPage> {
      let index = toIndex(from);
      const events: StoredEvent[] = [];
      if (types === undefined) {
        const end = Math.min(log.length, index + limit);
        const page = log.slice(index, end);
        return { events: page, next: page[page.length - 1]?.position };
      }
      {
        const wanted = new Set(types);
        for (; index < log.length && events.length < limit; index++) {
          const event = log[index] as StoredEvent;
          if (wanted.has(event.type)) events.push(event);
        }
      }
      const last = index > 0 && index > toIndex(from) ? log[index - 1] : undefined;
      return { events, next: last?.position };
    },

    async streamVersion(stream: string) {
      return streams.get(stream)?.length ?? 0;
    },

    async headPosition() {
      return log[log.length - 1]?.position;
    },

    waitForEvents(from: string | undefined, signal?: AbortSignal) {
      if (toIndex(from) < log.length) return Promise.resolve();
      if (signal?.aborted === true) return Promise.reject(signal.reason);
      return new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          waiters.delete(wake);
          reject(signal?.reason);
        };
        const wake = () => {
          waiters.delete(wake);
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        waiters.add(wake);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    },

    async close() {
      closed = true;
      for (const wake of [...waiters]) wake();
    },
  };
  return store;
}

function result(stream: string, events: StoredEvent[]): AppendResult {
  const first = events[0] as StoredEvent;
  const last = events[events.length - 1] as StoredEvent;
  return {
    stream,
    streamVersion: last.streamVersion,
    firstPosition: first.position,
    lastPosition: last.position,
    events,
  };
}

import type { Envelope } from '../../events/envelope';
import { uuidv7 } from '../../events/uuid';
import type { AppendResult, EventStore, ExpectedVersion } from '../../store/event-store';
import { sleep, waitFor } from '../wait-for';
import type { EventStoreFactory } from './options';

/**
 * Settings one test's harness runs with.
 *
 * @example
 * ```ts
 * const config: StoreHarnessConfig = { factory: () => memoryEventStore(), namespace: 'es_x_1', timeoutScale: 1 };
 * ```
 */
export interface StoreHarnessConfig {
  readonly factory: EventStoreFactory;
  readonly namespace: string;
  readonly timeoutScale: number;
}

/**
 * Shape of an event built by {@link StoreHarness.event}.
 *
 * @example
 * ```ts
 * const spec: EventSpec = { label: 'a1', subject: 'task-1' };
 * ```
 */
export interface EventSpec {
  /** Readable name, stored as `data.label` and shown in failure messages. */
  readonly label?: string;
  /** The envelope's `subject`. */
  readonly subject?: string;
}

const BASE_TIMEOUT_MS = 5_000;
const BASE_QUIET_MS = 50;
const BASE_CLOSE_TIMEOUT_MS = 5_000;
const TIME_ORIGIN_MS = Date.UTC(2026, 0, 1);

/**
 * Per-test fixture of the event store suite: opens the test's store (once, checking the factory rule), names
 * streams inside the test's namespace, builds envelopes with fresh UUIDv7 ids, scales wait bounds, and closes the
 * store when the test ends.
 *
 * @example
 * ```ts
 * const store = await h.store();
 * await store.append(h.stream('a'), h.events(3, 'conformance.created'));
 * ```
 */
export class StoreHarness {
  readonly namespace: string;
  readonly #config: StoreHarnessConfig;
  #store: Promise<EventStore> | undefined;
  #sequence = 0;

  constructor(config: StoreHarnessConfig) {
    this.#config = config;
    this.namespace = config.namespace;
  }

  /** Scales a duration by the suite's `timeoutScale`. */
  ms(base: number): number {
    return Math.round(base * this.#config.timeoutScale);
  }

  /** Default upper bound of every wait in a scenario. */
  get timeoutMs(): number {
    return this.ms(BASE_TIMEOUT_MS);
  }

  /** The test's store, made on first use; fails when the factory broke the empty-log rule. */
  store(): Promise<EventStore> {
    this.#store ??= this.#open();
    return this.#store;
  }

  async #open(): Promise<EventStore> {
    const store = await this.#config.factory({ namespace: this.namespace });
    const head = await store.headPosition();
    if (head !== undefined) {
      throw new Error(
        `The factory returned a "${store.name}" store whose log is not empty for the fresh namespace "${this.namespace}" (head ${head}). ` +
          'The suite needs an empty global log per namespace: use a fresh schema, database or table per namespace, or truncate.',
      );
    }
    return store;
  }

  /** A stream name inside the test's namespace. */
  stream(name: string): string {
    return `${this.namespace}-${name}`;
  }

  /** Builds an envelope with a fresh UUIDv7 id, a readable label and a JSON payload with nesting and unicode. */
  event(type: string, spec: EventSpec = {}): Envelope {
    const sequence = this.#sequence++;
    const label = spec.label ?? `e${sequence}`;
    return {
      id: uuidv7(),
      type,
      version: 1,
      time: new Date(TIME_ORIGIN_MS + sequence).toISOString(),
      source: 'relaybus/conformance',
      ...(spec.subject === undefined ? {} : { subject: spec.subject }),
      metadata: { tenant: 'acme', sequence: String(sequence) },
      data: {
        label,
        sequence,
        nested: { list: [1, 'two', null, { three: 3 }], flag: true, text: 'ünïcødé ✓' },
      },
    };
  }

  /** `count` envelopes of one type, labelled `<prefix>0`, `<prefix>1`, ... when a prefix is given. */
  events(count: number, type: string, labelPrefix?: string): Envelope[] {
    return Array.from({ length: count }, (_, index) =>
      this.event(type, labelPrefix === undefined ? {} : { label: `${labelPrefix}${index}` }),
    );
  }

  /**
   * Appends `events` to `stream` in batches of `batchSize`, each with the exact expected version, and returns the
   * results in order.
   */
  async appendInBatches(
    stream: string,
    events: ReadonlyArray<Envelope>,
    batchSize: number,
    firstExpected: ExpectedVersion = 0,
  ): Promise<AppendResult[]> {
    const store = await this.store();
    const results: AppendResult[] = [];
    let expected = firstExpected;
    for (let start = 0; start < events.length; start += batchSize) {
      const result = await store.append(stream, events.slice(start, start + batchSize), {
        expectedVersion: expected,
      });
      results.push(result);
      expected = result.streamVersion;
    }
    return results;
  }

  /** {@link waitFor} with the scaled default bound. */
  waitFor(
    predicate: () => boolean | Promise<boolean>,
    message: string | (() => string),
    timeoutMs?: number,
  ): Promise<void> {
    return waitFor(predicate, { timeoutMs: timeoutMs ?? this.timeoutMs, message });
  }

  /** Awaits `promise`, failing with `what` when it does not settle within the bound. */
  async within<T>(promise: Promise<T>, what: string, timeoutMs?: number): Promise<T> {
    const limitMs = timeoutMs ?? this.timeoutMs;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: did not settle within ${limitMs} ms`)), limitMs);
    });
    try {
      return await Promise.race([promise, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Waits a short, scaled quiet period. Used only to give a misbehaving store the chance to do what it must not
   * (resolve a wait with nothing new, deliver a duplicate); never to wait for something that must happen.
   */
  quiet(): Promise<void> {
    return sleep(this.ms(BASE_QUIET_MS));
  }

  /** Closes the test's store, if one was opened, within a bound. */
  async close(): Promise<void> {
    const opening = this.#store;
    this.#store = undefined;
    if (opening === undefined) return;
    const store = await opening.catch(() => undefined);
    if (store === undefined) return;
    await this.within(store.close(), `close() of the "${store.name}" store`, this.ms(BASE_CLOSE_TIMEOUT_MS));
  }
}

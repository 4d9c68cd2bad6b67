import type { Transport, TransportMessage, TransportSubscribeOptions } from '../../transport/transport';
import { type CollectOptions, type Collector, collect } from '../collect';
import { sleep, waitFor } from '../wait-for';
import { countMissing, tally } from './assertions';
import type { TransportFactory } from './options';

/** Settings one test's harness runs with. */
export interface HarnessConfig {
  readonly factory: TransportFactory;
  readonly namespace: string;
  readonly sharedBackend: boolean;
  readonly timeoutScale: number;
  readonly visibilityTimeoutMs: number;
}

/** Shape of a message built by {@link Harness.message}. */
export interface MessageSpec {
  readonly key?: string;
  readonly delayMs?: number;
  /** Readable prefix of the id. */
  readonly label?: string;
  /** Extra fields of `body.data`. */
  readonly data?: Readonly<Record<string, unknown>>;
}

const BASE_TIMEOUT_MS = 5_000;
const BASE_QUIET_MS = 50;
const BASE_CLOSE_TIMEOUT_MS = 2_000;

/**
 * Per-test fixture: makes transport instances in the test's namespace, builds messages with unique ids, scales
 * wait bounds, and closes everything it made when the test ends.
 */
export class Harness {
  readonly namespace: string;
  readonly sharedBackend: boolean;
  readonly visibilityTimeoutMs: number;
  readonly #config: HarnessConfig;
  readonly #instances: Array<Transport | undefined> = [];
  #primary: Promise<Transport> | undefined;
  #sequence = 0;

  constructor(config: HarnessConfig) {
    this.#config = config;
    this.namespace = config.namespace;
    this.sharedBackend = config.sharedBackend;
    this.visibilityTimeoutMs = config.visibilityTimeoutMs;
  }

  /** Scales a duration by the suite's `timeoutScale`. */
  ms(base: number): number {
    return Math.round(base * this.#config.timeoutScale);
  }

  /** Default upper bound of every wait in a scenario. */
  get timeoutMs(): number {
    return this.ms(BASE_TIMEOUT_MS);
  }

  /** The test's main instance, made on first use. */
  transport(): Promise<Transport> {
    this.#primary ??= this.newInstance();
    return this.#primary;
  }

  /** "Another process": a new instance when instances share a backend, otherwise the main one. */
  peer(): Promise<Transport> {
    return this.sharedBackend ? this.newInstance() : this.transport();
  }

  /** Always a new instance in the test's namespace. */
  async newInstance(): Promise<Transport> {
    // Reserve the slot before awaiting so concurrent calls get distinct instance numbers.
    const instance = this.#instances.push(undefined) - 1;
    const transport = await this.#config.factory({ namespace: this.namespace, instance });
    this.#instances[instance] = transport;
    return transport;
  }

  /** Builds a message with a unique id and an envelope-shaped, JSON-safe body. */
  message(topic: string, spec: MessageSpec = {}): TransportMessage {
    const sequence = this.#sequence++;
    const id = `${spec.label ?? 'm'}-${sequence}`;
    const body = {
      id,
      type: topic,
      version: 1,
      time: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, sequence)).toISOString(),
      source: 'relaybus/conformance',
      ...(spec.key === undefined ? {} : { key: spec.key }),
      metadata: { tenant: 'acme', sequence: String(sequence) },
      data: {
        sequence,
        nested: { list: [1, 'two', null, { three: 3 }], flag: true, text: 'ünïcødé ✓' },
        ...spec.data,
      },
    };
    return {
      id,
      topic,
      body,
      ...(spec.key === undefined ? {} : { key: spec.key }),
      ...(spec.delayMs === undefined ? {} : { delayMs: spec.delayMs }),
    };
  }

  /** `count` messages to one topic. */
  messages(topic: string, count: number, spec: MessageSpec = {}): TransportMessage[] {
    return Array.from({ length: count }, () => this.message(topic, spec));
  }

  /** {@link waitFor} with the scaled default bound. */
  waitFor(
    predicate: () => boolean | Promise<boolean>,
    message: string | (() => string),
    timeoutMs?: number,
  ): Promise<void> {
    return waitFor(predicate, { timeoutMs: timeoutMs ?? this.timeoutMs, message });
  }

  /**
   * Waits until every expected id was received; on timeout names the ids still missing and any that should not
   * have arrived.
   */
  waitForIds(
    received: () => Iterable<string>,
    expected: ReadonlyArray<string>,
    what: string,
    timeoutMs?: number,
  ): Promise<void> {
    return this.waitFor(
      () => countMissing(received(), expected) === 0,
      () => {
        const { missing, unexpected } = tally(received(), expected);
        const arrived = expected.length - missing.length;
        return `${what} to receive all ${expected.length} messages (${arrived} arrived; missing: ${preview(missing)}; unexpected: ${preview(unexpected)})`;
      },
      timeoutMs,
    );
  }

  /** {@link collect} with the scaled default bound. */
  collect(
    transport: Transport,
    options: TransportSubscribeOptions,
    collectOptions: CollectOptions = {},
  ): Promise<Collector> {
    return collect(transport, options, { timeoutMs: this.timeoutMs, ...collectOptions });
  }

  /**
   * Waits a short, scaled quiet period. Used only to give a misbehaving transport the chance to deliver what it
   * must not (a duplicate, a message after close); never to wait for something that must happen.
   */
  quiet(): Promise<void> {
    return sleep(this.ms(BASE_QUIET_MS));
  }

  /** Closes every instance this test made, each bounded; fails naming the instances whose close failed. */
  async closeAll(): Promise<void> {
    const instances = this.#instances.splice(0);
    this.#primary = undefined;
    const limitMs = this.ms(BASE_CLOSE_TIMEOUT_MS);
    const results = await Promise.allSettled(
      instances.map((transport, index) => closeWithin(transport, index, limitMs)),
    );
    const failures = results.flatMap((result) =>
      result.status === 'rejected' ? [String(result.reason)] : [],
    );
    if (failures.length > 0)
      throw new Error(`Closing transports after the test failed: ${failures.join('; ')}`);
  }
}

function preview(ids: ReadonlyArray<string>): string {
  if (ids.length === 0) return 'none';
  return ids.length > 10 ? `${ids.slice(0, 10).join(', ')} and ${ids.length - 10} more` : ids.join(', ');
}

async function closeWithin(transport: Transport | undefined, index: number, limitMs: number): Promise<void> {
  if (transport === undefined) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`close() of instance ${index} did not resolve within ${limitMs} ms`)),
      limitMs + 1_000,
    );
  });
  try {
    await Promise.race([transport.close({ timeoutMs: limitMs }), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

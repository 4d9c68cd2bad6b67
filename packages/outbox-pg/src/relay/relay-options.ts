import type { EventBus, Logger, Transport } from '@relaybus/core';
import {
  consoleLogger,
  InvalidEnvelopeError,
  InvalidOptionError,
  NonRetryableError,
  TransportError,
  ValidationError,
} from '@relaybus/core';
import type { Pool } from 'pg';
import { checkIdentifier } from '../identifiers';
import { DEFAULTS } from '../options';

/** Defaults of every relay option, in one place. */
export const RELAY_DEFAULTS = {
  name: 'default',
  batchSize: 100,
  leaseMs: 10_000,
  pollIntervalMs: 1_000,
  maxAttempts: 10,
  crashLimit: 3,
  retryDelayMs: 250,
  maxRetryDelayMs: 10_000,
  statsIntervalMs: 5_000,
} as const;

/**
 * Options of {@link createOutboxRelay}. Give `transport` or `bus`.
 *
 * @example
 * ```ts
 * const relay = createOutboxRelay({ pool, transport: redisTransport({ redis }), name: 'orders' });
 * ```
 */
export interface OutboxRelayOptions {
  /** The `pg` pool the relay queries through. The relay never ends it. */
  pool: Pool;
  /**
   * The schema {@link migrate} created the tables in.
   * @defaultValue 'relaybus'
   */
  schema?: string;
  /** Where events go. Give this or `bus`. */
  transport?: Transport;
  /** A bus whose transport events go to (`bus.transport`); the bus's publish middleware does not run. */
  bus?: EventBus;
  /**
   * The relay's name: instances with the same name share the work (each partition is leased to one of them) and
   * one checkpoint per partition. Relays with different names each deliver the whole log.
   * @defaultValue 'default'
   */
  name?: string;
  /**
   * Most events read and published per partition in one step.
   * @defaultValue 100
   */
  batchSize?: number;
  /**
   * How long a partition lease lasts without renewal; a dead instance's partitions are taken over after this.
   * Leases are renewed every third of it.
   * @defaultValue 10000
   */
  leaseMs?: number;
  /**
   * Longest pause between polls while idle: the bound on how late a lost notification is noticed.
   * @defaultValue 1000
   */
  pollIntervalMs?: number;
  /**
   * LISTEN for appends of other processes (on one pooled connection). Turn off behind PgBouncer in transaction
   * mode; polling remains.
   * @defaultValue true
   */
  listen?: boolean;
  /**
   * Publish attempts of one event that fail while the transport accepts other events, before it is parked.
   * @defaultValue 10
   */
  maxAttempts?: number;
  /**
   * Times a partition may be taken over from a dead owner at the same position before the next event there is
   * parked as the suspected cause of a crash loop.
   * @defaultValue 3
   */
  crashLimit?: number;
  /**
   * First pause before retrying a failed publish or query; doubles up to `maxRetryDelayMs`.
   * @defaultValue 250
   */
  retryDelayMs?: number;
  /**
   * Longest pause between retries.
   * @defaultValue 10000
   */
  maxRetryDelayMs?: number;
  /**
   * Whether a publish error is final for that event (it is parked at once, not retried).
   * @defaultValue {@link defaultIsPoison}: `NonRetryableError`, `ValidationError`, `InvalidEnvelopeError`,
   * `TypeError`/`RangeError` (an envelope that cannot be serialised), and a `TransportError` saying the message is
   * too large
   */
  isPoison?: (error: unknown) => boolean;
  /**
   * How often `registerMetrics` refreshes the cached lag statistics its gauges read.
   * @defaultValue 5000
   */
  statsIntervalMs?: number;
  /**
   * Where background problems are reported.
   * @defaultValue consoleLogger (warnings and errors)
   */
  logger?: Logger;
  /** Aborting it closes the relay. */
  signal?: AbortSignal;
}

/** Relay options with defaults applied and checked. */
export interface ResolvedRelayOptions {
  readonly pool: Pool;
  readonly schema: string;
  readonly transport: Transport;
  readonly name: string;
  readonly batchSize: number;
  readonly leaseMs: number;
  readonly pollIntervalMs: number;
  readonly listen: boolean;
  readonly maxAttempts: number;
  readonly crashLimit: number;
  readonly retryDelayMs: number;
  readonly maxRetryDelayMs: number;
  readonly isPoison: (error: unknown) => boolean;
  readonly statsIntervalMs: number;
  readonly logger: Logger;
  readonly signal: AbortSignal | undefined;
}

const TOO_LARGE =
  /too large|too big|exceeds|payload size|max(imum)?[ _-]?(message|payload)?[ _-]?(size|length)/i;

/**
 * The default poison test: errors that will fail the same way on every attempt, such as an invalid envelope or a
 * message the transport says is too large. Other errors are retried (see `maxAttempts`).
 *
 * @example
 * ```ts
 * createOutboxRelay({ pool, transport, isPoison: (e) => defaultIsPoison(e) || isTooLarge(e) });
 * ```
 */
export function defaultIsPoison(error: unknown): boolean {
  return (
    error instanceof NonRetryableError ||
    error instanceof ValidationError ||
    error instanceof InvalidEnvelopeError ||
    error instanceof TypeError ||
    error instanceof RangeError ||
    (error instanceof TransportError && TOO_LARGE.test(error.message))
  );
}

/**
 * Applies defaults to relay options and checks them.
 *
 * @throws `InvalidOptionError` naming the first option at fault.
 */
export function resolveRelayOptions(options: OutboxRelayOptions): ResolvedRelayOptions {
  const where = 'createOutboxRelay()';
  const pool: unknown = options?.pool;
  if (typeof pool !== 'object' || pool === null || typeof Reflect.get(pool, 'connect') !== 'function') {
    throw new InvalidOptionError(where, 'pool', 'must be a pg Pool (new pg.Pool(...))');
  }
  const transport = options.transport ?? options.bus?.transport;
  if (transport === undefined || typeof transport.publish !== 'function') {
    throw new InvalidOptionError(where, 'transport', 'is required: pass a Transport, or a bus with one');
  }
  const name = options.name ?? RELAY_DEFAULTS.name;
  if (typeof name !== 'string' || name.length === 0 || name.length > 200) {
    throw new InvalidOptionError(where, 'name', `must be a non-empty string of at most 200 characters`);
  }
  const int = (option: string, value: number, min: number): number => {
    if (!Number.isInteger(value) || value < min) {
      throw new InvalidOptionError(where, option, `must be an integer >= ${min}, got ${String(value)}`);
    }
    return value;
  };
  return {
    pool: options.pool,
    schema: checkIdentifier(where, 'schema', options.schema ?? DEFAULTS.schema),
    transport,
    name,
    batchSize: int('batchSize', options.batchSize ?? RELAY_DEFAULTS.batchSize, 1),
    leaseMs: int('leaseMs', options.leaseMs ?? RELAY_DEFAULTS.leaseMs, 300),
    pollIntervalMs: int('pollIntervalMs', options.pollIntervalMs ?? RELAY_DEFAULTS.pollIntervalMs, 10),
    listen: options.listen ?? DEFAULTS.listen,
    maxAttempts: int('maxAttempts', options.maxAttempts ?? RELAY_DEFAULTS.maxAttempts, 1),
    crashLimit: int('crashLimit', options.crashLimit ?? RELAY_DEFAULTS.crashLimit, 1),
    retryDelayMs: int('retryDelayMs', options.retryDelayMs ?? RELAY_DEFAULTS.retryDelayMs, 1),
    maxRetryDelayMs: int('maxRetryDelayMs', options.maxRetryDelayMs ?? RELAY_DEFAULTS.maxRetryDelayMs, 1),
    isPoison: options.isPoison ?? defaultIsPoison,
    statsIntervalMs: int('statsIntervalMs', options.statsIntervalMs ?? RELAY_DEFAULTS.statsIntervalMs, 10),
    logger: options.logger ?? consoleLogger,
    signal: options.signal,
  };
}

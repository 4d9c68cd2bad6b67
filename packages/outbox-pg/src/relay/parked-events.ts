import type { SerializedError, StoredEvent } from '@relaybus/core';
import { InvalidOptionError, serializeError } from '@relaybus/core';
import type { Pool } from 'pg';
import { guarded } from '../failures';
import type { Tables } from '../identifiers';
import type { EventRow } from '../rows';
import { storedEventOf } from '../rows';
import { run } from '../sql/query';
import { asError } from './checkpoints';
import type { Destinations } from './deliveries';
import { deliverOne, isFinal } from './deliveries';
import { parkedStatements } from './parked-statements';

/**
 * An event the relay parked in `relay_dead_letters` instead of publishing it, with why and how often it failed.
 *
 * @example
 * ```ts
 * const [first] = await relay.parked.list();
 * console.log(first?.type, first?.error.message, first?.attempts);
 * ```
 */
export interface ParkedEvent {
  /** Id of the dead-letter row (the `after` cursor of {@link ParkedEvents.list}). */
  readonly id: string;
  /** The event's id. */
  readonly eventId: string;
  /** Its key partition. */
  readonly partition: number;
  /** Its position in the log. */
  readonly position: string;
  readonly stream: string;
  readonly type: string;
  /** Its ordering key, when it has one of its own (else its stream orders it). */
  readonly key: string | undefined;
  /** Publish attempts (or relay crashes during its publish) before it was parked, plus failed redrives. */
  readonly attempts: number;
  /** The latest error. */
  readonly error: SerializedError;
  /** Every error recorded, oldest first; the last is `error`. More than one after a redrive failed again. */
  readonly errors: ReadonlyArray<SerializedError>;
  /** When it was last parked (ISO 8601). */
  readonly parkedAt: string;
  /** When it was last redriven (ISO 8601); `undefined` while parked. */
  readonly redrivenAt: string | undefined;
  /** The stored event; `undefined` when it is no longer in the log. */
  readonly event: StoredEvent | undefined;
}

/**
 * Selects parked events. Fields combine with AND.
 *
 * @example
 * ```ts
 * await relay.parked.redrive({ type: 'task.created', partition: 3 });
 * ```
 */
export interface ParkedEventFilter {
  /** Only these event ids. */
  readonly eventIds?: ReadonlyArray<string>;
  /** Only events of this stream. */
  readonly stream?: string;
  /** Only events of this type. */
  readonly type?: string;
  /** Only events of this key partition. */
  readonly partition?: number;
  /**
   * `'parked'`: not redriven since last parked; `'redriven'`: redriven; `'all'`: both.
   * @defaultValue 'parked'
   */
  readonly state?: 'parked' | 'redriven' | 'all';
}

/**
 * Options of {@link ParkedEvents.list}: a filter plus paging.
 *
 * @example
 * ```ts
 * const next = await relay.parked.list({ after: page[page.length - 1]?.id, limit: 50 });
 * ```
 */
export interface ParkedEventListOptions extends ParkedEventFilter {
  /** Start after this `ParkedEvent.id` (the last of the previous page). */
  readonly after?: string | undefined;
  /**
   * Most events returned, 1 to 1000.
   * @defaultValue 100
   */
  readonly limit?: number;
}

/**
 * The parked events of a relay name: list and inspect them, publish them again, or give up on them.
 *
 * @example
 * ```ts
 * for (const parked of await relay.parked.list({ type: 'task.created' })) console.log(parked.errors);
 * await relay.parked.redrive({ eventIds: [id] });
 * ```
 */
export interface ParkedEvents {
  /** Lists parked events, oldest parking first. Page with `after`. */
  list(options?: ParkedEventListOptions): Promise<ParkedEvent[]>;
  /** One event of this relay name's dead letters, whatever its state, or `undefined`. */
  get(eventId: string): Promise<ParkedEvent | undefined>;
  /**
   * Delivers the selected events again, in log order (so events of one key keep their order among themselves; they
   * arrive after the later events of their key, which were not held back): jobs to their queue among the relay's
   * `jobQueues`, other events through its transport. Marks each `redrivenAt`. An event that fails as poison again
   * (a job whose queue the relay still lacks, say) stays parked with the new error added. Returns how many were
   * delivered.
   * @throws the transport's (or job queue's) error when it fails otherwise (down): events delivered before it stay
   * redriven.
   */
  redrive(filter?: ParkedEventFilter): Promise<number>;
  /** Deletes the selected dead-letter rows for good; their events are never published. Returns how many. */
  purge(filter?: ParkedEventFilter): Promise<number>;
}

/** A dead-letter row with its event (whose columns are null once the event left the log). */
interface ParkedRow extends Omit<EventRow, 'envelope'> {
  readonly envelope: string | null;
  readonly dl_id: string;
  readonly event_id: string;
  readonly partition: number;
  readonly dl_position: string;
  readonly dl_stream: string;
  readonly type: string;
  readonly key: string | null;
  readonly attempts: number;
  readonly error: string;
  readonly previous_errors: string;
  readonly parked_at: string;
  readonly redriven_at: string | null;
}

/** Events published per page of a redrive. */
const REDRIVE_PAGE = 100;

/**
 * The parked-events API of a relay name (see {@link ParkedEvents}); works whether or not the relay runs.
 *
 * @example
 * ```ts
 * const parked = parkedEvents({ pool, tables, relay: 'default', destinations, isPoison: defaultIsPoison });
 * ```
 */
export function parkedEvents(config: {
  readonly pool: Pool;
  readonly tables: Tables;
  readonly relay: string;
  readonly destinations: Destinations;
  readonly isPoison: (error: unknown) => boolean;
}): ParkedEvents {
  const { pool, relay, destinations } = config;
  const sql = parkedStatements(config.tables);
  const select = (where: string, filter: ParkedEventFilter, extra: ReadonlyArray<unknown>) =>
    run<ParkedRow>(pool, where === 'list' ? sql.list : sql.redrivePage, [
      ...filterParams(`relay.parked.${where}()`, relay, filter),
      ...extra,
    ]);

  async function redrive(filter: ParkedEventFilter = {}): Promise<number> {
    let count = 0;
    for (let after = ''; ; ) {
      const rows = await select('redrive', filter, [after, REDRIVE_PAGE]);
      const published: string[] = [];
      try {
        for (const row of rows) {
          if (await redriveOne(row)) published.push(row.event_id);
        }
      } finally {
        if (published.length > 0) await run(pool, sql.markRedriven, [relay, published]);
        count += published.length;
      }
      const last = rows[rows.length - 1];
      if (last === undefined || rows.length < REDRIVE_PAGE) return count;
      after = last.dl_position;
    }
  }

  /** Delivers one parked event; a poison failure is recorded on its row (and it stays parked). */
  async function redriveOne(row: ParkedRow): Promise<boolean> {
    const event = eventOf(row);
    if (event === undefined) return false;
    try {
      await deliverOne(destinations, event);
      return true;
    } catch (error) {
      if (!isFinal(error, event, config.isPoison)) throw error;
      await run(pool, sql.parkAgain, [relay, row.event_id, JSON.stringify(serializeError(asError(error)))]);
      return false;
    }
  }

  return {
    list: (options = {}) =>
      guarded('relay.parked.list', pool, async () => {
        const limit = options.limit ?? 100;
        if (!Number.isInteger(limit) || limit < 1 || limit > 1_000) {
          throw new InvalidOptionError(
            'relay.parked.list()',
            'limit',
            `must be an integer from 1 to 1000, got ${String(limit)}`,
          );
        }
        const after = options.after ?? '0';
        if (!/^\d{1,19}$/.test(after)) {
          throw new InvalidOptionError(
            'relay.parked.list()',
            'after',
            'must be the id of a parked event from an earlier list()',
          );
        }
        return (await select('list', options, [after, limit])).map(parkedEventOf);
      }),
    get: (eventId) =>
      guarded('relay.parked.get', pool, async () => {
        const [row] = await select('list', { eventIds: [eventId], state: 'all' }, ['0', 1]);
        return row === undefined ? undefined : parkedEventOf(row);
      }),
    redrive: (filter) => guarded('relay.parked.redrive', pool, () => redrive(filter)),
    purge: (filter = {}) =>
      guarded('relay.parked.purge', pool, async () => {
        const rows = await run(pool, sql.purge, filterParams('relay.parked.purge()', relay, filter));
        return rows.length;
      }),
  };
}

/** The filter as the statements' parameters `$1`-`$6`, checked. */
function filterParams(where: string, relay: string, filter: ParkedEventFilter): unknown[] {
  const { eventIds, stream, type, partition, state = 'parked' } = filter;
  if (eventIds !== undefined && (!Array.isArray(eventIds) || eventIds.some((id) => typeof id !== 'string'))) {
    throw new InvalidOptionError(where, 'eventIds', 'must be an array of event ids');
  }
  if (partition !== undefined && (!Number.isInteger(partition) || partition < 0)) {
    throw new InvalidOptionError(where, 'partition', `must be an integer >= 0, got ${String(partition)}`);
  }
  if (state !== 'parked' && state !== 'redriven' && state !== 'all') {
    throw new InvalidOptionError(
      where,
      'state',
      `must be 'parked', 'redriven' or 'all', got ${String(state)}`,
    );
  }
  return [
    relay,
    eventIds === undefined ? null : [...eventIds],
    stream ?? null,
    type ?? null,
    partition ?? null,
    state,
  ];
}

function eventOf(row: ParkedRow): StoredEvent | undefined {
  const { envelope } = row;
  return envelope === null ? undefined : storedEventOf({ ...row, envelope });
}

function parkedEventOf(row: ParkedRow): ParkedEvent {
  // jsonb is selected as text: a pool with custom jsonb parsers reads the same.
  const error = JSON.parse(row.error) as SerializedError;
  const previous = JSON.parse(row.previous_errors) as SerializedError[];
  return {
    id: row.dl_id,
    eventId: row.event_id,
    partition: row.partition,
    position: row.dl_position,
    stream: row.dl_stream,
    type: row.type,
    key: row.key ?? undefined,
    attempts: row.attempts,
    error,
    errors: [...previous, error],
    parkedAt: row.parked_at,
    redrivenAt: row.redriven_at ?? undefined,
    event: eventOf(row),
  };
}

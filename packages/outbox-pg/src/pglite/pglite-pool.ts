import { EventEmitter } from 'node:events';
import type { Pool } from 'pg';

/**
 * The part of a PGlite instance (`@electric-sql/pglite`) the pool adapter uses. A `PGlite` from version 0.2 on
 * fits it.
 *
 * @example
 * ```ts
 * import { PGlite } from '@electric-sql/pglite';
 * const db: PgliteLike = new PGlite('./data/pg');
 * ```
 */
export interface PgliteLike {
  query<R>(
    text: string,
    values?: unknown[],
    options?: { readonly parsers?: Record<number, (value: string, typeId: number) => unknown> },
  ): Promise<{
    rows: R[];
    affectedRows?: number;
    fields: ReadonlyArray<{ name: string; dataTypeID: number }>;
  }>;
  exec(
    text: string,
    options?: { readonly parsers?: Record<number, (value: string, typeId: number) => unknown> },
  ): Promise<
    ReadonlyArray<{
      rows: unknown[];
      affectedRows?: number;
      fields: ReadonlyArray<{ name: string; dataTypeID: number }>;
    }>
  >;
  listen(channel: string, callback: (payload: string) => void): Promise<(() => Promise<void>) | unknown>;
  unlisten(channel: string, callback?: (payload: string) => void): Promise<void>;
  readonly closed?: boolean;
}

/**
 * Options of {@link pglitePool}.
 *
 * @example
 * ```ts
 * const pool = pglitePool(db, { checkoutWarningMs: 10_000 });
 * ```
 */
export interface PglitePoolOptions {
  /**
   * A checked-out client held longer than this, while others wait for the one session, is reported once with
   * `console.warn` (PGlite runs one session: a transaction left open stops every other statement).
   * @defaultValue 30000
   */
  readonly checkoutWarningMs?: number;
}

// pg returns these as strings; PGlite's defaults differ (int8 as a number), so the store sees what it sees on pg.
const PG_COMPATIBLE_PARSERS: Record<number, (value: string) => unknown> = {
  20: (value) => value, // int8
  1700: (value) => value, // numeric
  5069: (value) => value, // xid8
  1016: (value) => value.slice(1, -1).split(',').filter(Boolean), // int8[] as strings
};

interface QueryResultLike {
  rows: unknown[];
  rowCount: number;
  command: string;
  fields: ReadonlyArray<{ name: string; dataTypeID: number }>;
}

/** A FIFO mutex: PGlite has one session, so one client holds it at a time. */
class SessionLock {
  #held = false;
  #waiters: Array<() => void> = [];

  get waiting(): number {
    return this.#waiters.length;
  }

  acquire(): Promise<void> {
    if (!this.#held) {
      this.#held = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  release(): void {
    const next = this.#waiters.shift();
    if (next === undefined) this.#held = false;
    else next();
  }
}

type QueryArgs = [text: string | { text: string; values?: unknown[] }, values?: unknown[] | undefined];

function statementOf(args: QueryArgs): { text: string; values: unknown[] | undefined } {
  const [first, second] = args;
  if (typeof first === 'string') return { text: first, values: second };
  return { text: first.text, values: second ?? first.values };
}

async function execute(
  db: PgliteLike,
  text: string,
  values: unknown[] | undefined,
): Promise<QueryResultLike> {
  const command = text.trim().split(/\s+/, 1)[0]?.toUpperCase() ?? '';
  if (values === undefined || values.length === 0) {
    // Without parameters a text may hold several statements (migrations, savepoint pairs): the simple protocol.
    const results = await db.exec(text, { parsers: PG_COMPATIBLE_PARSERS });
    const last = results[results.length - 1];
    const rows = last?.rows ?? [];
    return { rows, rowCount: last?.affectedRows ?? rows.length, command, fields: last?.fields ?? [] };
  }
  const result = await db.query<unknown>(text, values, { parsers: PG_COMPATIBLE_PARSERS });
  return {
    rows: result.rows,
    rowCount: result.affectedRows ?? result.rows.length,
    command,
    fields: result.fields,
  };
}

/**
 * A client of the adapter. While checked out it holds the session; a client that ran `LISTEN` gives the session
 * back and keeps receiving `notification` events (PGlite delivers them in-process).
 */
class PgliteClient extends EventEmitter {
  readonly #db: PgliteLike;
  readonly #lock: SessionLock;
  readonly #warnAfterMs: number;
  #holding = true;
  #released = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #channels = new Map<string, (payload: string) => void>();

  constructor(db: PgliteLike, lock: SessionLock, warnAfterMs: number) {
    super();
    this.#db = db;
    this.#lock = lock;
    this.#warnAfterMs = warnAfterMs;
    this.#armWarning();
  }

  async query(...args: QueryArgs): Promise<QueryResultLike> {
    if (this.#released) throw new Error('pglitePool: query on a client that was released');
    const { text, values } = statementOf(args);
    const listen = /^\s*(UN)?LISTEN\s+(\*|"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)\s*;?\s*$/i.exec(text);
    if (listen !== null) return this.#listen(listen[1] !== undefined, listen[2] as string, text);
    if (this.#holding) return execute(this.#db, text, values);
    await this.#lock.acquire();
    try {
      return await execute(this.#db, text, values);
    } finally {
      this.#lock.release();
    }
  }

  release(_error?: unknown): void {
    if (this.#released) return;
    this.#released = true;
    for (const [channel, callback] of this.#channels)
      void this.#db.unlisten(channel, callback).catch(() => {});
    this.#channels.clear();
    this.#giveBack();
  }

  async #listen(unlisten: boolean, rawChannel: string, text: string): Promise<QueryResultLike> {
    const channel = rawChannel.startsWith('"') ? rawChannel.slice(1, -1).replaceAll('""', '"') : rawChannel;
    if (unlisten) {
      const channels = channel === '*' ? [...this.#channels.keys()] : [channel];
      for (const name of channels) {
        const callback = this.#channels.get(name);
        this.#channels.delete(name);
        if (callback !== undefined) await this.#db.unlisten(name, callback);
      }
    } else if (!this.#channels.has(channel)) {
      const callback = (payload: string): void => void this.emit('notification', { channel, payload });
      this.#channels.set(channel, callback);
      await this.#db.listen(channel, callback);
    }
    // A listening connection only waits for notifications: the one session goes back to the others.
    this.#giveBack();
    return {
      rows: [],
      rowCount: 0,
      command: text.trim().split(/\s+/, 1)[0]?.toUpperCase() ?? '',
      fields: [],
    };
  }

  #giveBack(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!this.#holding) return;
    this.#holding = false;
    this.#lock.release();
  }

  #armWarning(): void {
    this.#timer = setTimeout(() => {
      if (this.#holding && this.#lock.waiting > 0) {
        console.warn(
          `pglitePool: a client has held PGlite's only session for ${this.#warnAfterMs} ms while ${this.#lock.waiting} other statements wait; release clients promptly (a transaction left open stops everything else)`,
        );
      }
    }, this.#warnAfterMs);
    this.#timer.unref?.();
  }
}

/**
 * Lets relaybus's Postgres store, relay, inbox and checkpoints run on PGlite, the embedded Postgres (WASM, data in a
 * folder or in memory; no server): a `pg.Pool` look-alike over one PGlite instance. PGlite has a single session, so
 * the adapter serialises: a checked-out client holds the session until `release()`, and `pool.query()` waits its
 * turn; a client that runs `LISTEN` gives the session back and keeps receiving notifications. Values come back as
 * `pg` returns them (int8 and numeric as strings).
 *
 * Meant for one process (an embedded app, a demo, tests). Do not hold a client while awaiting something that needs
 * another statement, or it waits forever; the adapter warns when a client holds the session for long.
 *
 * @param db - A PGlite instance; the adapter never closes it (`pool.end()` does nothing to it).
 * @example
 * ```ts
 * import { PGlite } from '@electric-sql/pglite';
 * import { migrate, postgresEventStore } from '@relaybus/outbox-pg';
 * import { pglitePool } from '@relaybus/outbox-pg/pglite';
 *
 * const pool = pglitePool(new PGlite('./data/pg'));
 * await migrate(pool);
 * const store = postgresEventStore({ pool });
 * ```
 */
export function pglitePool(db: PgliteLike, options: PglitePoolOptions = {}): Pool {
  const lock = new SessionLock();
  const warnAfterMs = options.checkoutWarningMs ?? 30_000;
  const emitter = new EventEmitter();
  const pool = Object.assign(emitter, {
    totalCount: 1,
    idleCount: 0,
    waitingCount: 0,
    ending: false,
    ended: false,
    async connect(): Promise<PgliteClient> {
      await lock.acquire();
      return new PgliteClient(db, lock, warnAfterMs);
    },
    async query(...args: QueryArgs): Promise<QueryResultLike> {
      const { text, values } = statementOf(args);
      await lock.acquire();
      try {
        return await execute(db, text, values);
      } finally {
        lock.release();
      }
    },
    async end(): Promise<void> {
      pool.ending = true;
      pool.ended = true;
    },
  });
  // The store only uses connect, query, release, on/off and end: the rest of pg.Pool's surface is not offered.
  return pool as unknown as Pool;
}

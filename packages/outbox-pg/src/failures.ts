import { RelaybusError, StoreError, StoreUnavailableError } from '@relaybus/core';
import type { Queryable } from './sql/query';
import { pgCode } from './sql/query';

/** Error codes of Node's socket layer that mean the server could not be reached or the connection was cut. */
const NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

/**
 * SQLSTATEs that mean "the server is not available right now": connection exceptions (class 08), shutdown and
 * crash recovery (57P01-57P03), and a full connection table (53300).
 */
const UNAVAILABLE_STATES: ReadonlySet<string> = new Set(['57P01', '57P02', '57P03', '53300']);

/**
 * The `pg` driver reports a lost or refused connection with these messages and no code, so its text is the only
 * thing to tell them by. Relaybus's own errors are always told apart by `code`, never by message.
 */
const DRIVER_CONNECTION_MESSAGES =
  /^(Connection terminated|timeout exceeded when trying to connect|timeout expired|Client has encountered a connection error)/;

/** What to do about a Postgres error, for the SQLSTATEs where the fix is clear. */
const HINTS: Readonly<Record<string, string>> = {
  '25P02':
    "the caller's transaction had already failed at an earlier statement: roll it back and run it again",
  '3D000': 'the database does not exist: check the database name the pool connects to',
  '28P01': 'authentication failed: check the user and password the pool connects with',
  '28000': 'the server refused the role: check pg_hba.conf and the user the pool connects with',
  '57014':
    'the statement was cancelled (statement_timeout, or pg_cancel_backend): retry, or raise the timeout',
};

/**
 * Turns what the `pg` driver threw during `operation` into relaybus's vocabulary, with the driver's error as
 * `cause`: a connection that could not be made or was lost becomes `StoreUnavailableError` naming the address; any
 * other Postgres error becomes `StoreError` naming the SQLSTATE. Relaybus errors (`VersionConflictError`,
 * `SchemaVersionError`, `PermissionDeniedError`, ...) and anything that did not come from the driver (an abort
 * reason, a bug) are returned unchanged.
 *
 * @example
 * ```ts
 * try { return await readPage(context, options); } catch (error) { throw storeFailure('readAll', pool, error); }
 * ```
 */
export function storeFailure(operation: string, db: Queryable, error: unknown): unknown {
  if (RelaybusError.is(error) || !(error instanceof Error)) return error;
  const code = pgCode(error);
  if (isConnectionFailure(error, code)) {
    return new StoreUnavailableError('postgres', operation, addressOf(db, error), unavailableProblem(error), {
      cause: error,
    });
  }
  if (!isDatabaseError(error)) return error;
  const hint = (code === undefined ? undefined : HINTS[code]) ?? 'see the cause for the detail Postgres gave';
  return new StoreError(
    'postgres',
    operation,
    `Postgres failed the statement (SQLSTATE ${code}): ${error.message}; ${hint}.`,
    {
      cause: error,
    },
  );
}

/**
 * Runs `fn` and rethrows its failure through {@link storeFailure}.
 *
 * @example
 * ```ts
 * const version = await guarded('streamVersion', pool, () => streamVersion(context, stream));
 * ```
 */
export async function guarded<T>(operation: string, db: Queryable, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw storeFailure(operation, db, error);
  }
}

/**
 * Whether an error (a driver error, or a relaybus error wrapping one) says Postgres could not be reached.
 *
 * @example
 * ```ts
 * if (isUnavailable(error)) await pause(retryDelayMs);
 * ```
 */
export function isUnavailable(error: unknown): boolean {
  if (RelaybusError.is(error)) return error.code === 'STORE_UNAVAILABLE';
  return error instanceof Error && isConnectionFailure(error, pgCode(error));
}

function isConnectionFailure(error: Error, code: string | undefined): boolean {
  if (code !== undefined) {
    return NETWORK_CODES.has(code) || UNAVAILABLE_STATES.has(code) || code.startsWith('08');
  }
  return DRIVER_CONNECTION_MESSAGES.test(error.message);
}

/** Errors Postgres sent (the driver's `DatabaseError`): a SQLSTATE and a severity. */
function isDatabaseError(error: Error): boolean {
  return typeof Reflect.get(error, 'severity') === 'string' && pgCode(error) !== undefined;
}

function unavailableProblem(error: Error): string {
  const code = pgCode(error);
  const refused = code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN';
  const what = refused
    ? 'could not be reached'
    : code === '57P03'
      ? 'is starting up or shutting down'
      : code === '53300'
        ? 'has no free connection slot'
        : 'dropped the connection';
  return `${what} (${error.message}). Check that PostgreSQL runs there and accepts connections, then retry; relays and waits for events retry on their own.`;
}

/**
 * Where a pool or client connects, for error messages: the address a failed connect names, else the configured
 * host and port (or the connection string's), else what `pg` falls back to (`PGHOST`/`PGPORT`, then
 * `localhost:5432`).
 *
 * @example
 * ```ts
 * addressOf(pool, error); // '127.0.0.1:5439'
 * ```
 */
export function addressOf(db: Queryable, error?: unknown): string {
  const address = readString(error, 'address');
  if (address !== undefined) {
    const port = error === undefined ? undefined : Reflect.get(error as object, 'port');
    return typeof port === 'number' ? `${address}:${port}` : address;
  }
  const options: unknown = Reflect.get(db, 'options') ?? db;
  const url = parseUrl(readString(options, 'connectionString'));
  const host = readString(options, 'host') ?? url?.host ?? process.env['PGHOST'] ?? 'localhost';
  const port = readPort(options) ?? url?.port ?? process.env['PGPORT'] ?? '5432';
  return host.startsWith('/') ? `${host}/.s.PGSQL.${port}` : `${host}:${port}`;
}

function readString(value: unknown, key: string): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const field = Reflect.get(value, key);
  return typeof field === 'string' && field !== '' ? field : undefined;
}

function readPort(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const port = Reflect.get(value, 'port');
  return typeof port === 'number' || (typeof port === 'string' && port !== '') ? String(port) : undefined;
}

function parseUrl(
  text: string | undefined,
): { host: string | undefined; port: string | undefined } | undefined {
  if (text === undefined) return undefined;
  try {
    const url = new URL(text);
    return {
      host: url.searchParams.get('host') ?? (url.hostname === '' ? undefined : url.hostname),
      port: url.port === '' ? undefined : url.port,
    };
  } catch {
    return undefined;
  }
}

import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { IncompatibleClientError, RedisUnavailableError } from './errors';

/** A standalone client or a cluster client. */
export type RedisClient = Redis | Cluster;

/** Whether `client` is an ioredis `Cluster`. */
export function isCluster(client: RedisClient): client is Cluster {
  return client.isCluster;
}

/** The ioredis methods the transport calls on the client: anything without them is not an ioredis client. */
const METHODS = [
  'duplicate',
  'pipeline',
  'call',
  'evalsha',
  'eval',
  'xadd',
  'xack',
  'xclaim',
  'hgetall',
] as const;
const PROTOCOLS: ReadonlySet<unknown> = new Set([undefined, 2, 3]);
const REPLY_MAPPINGS: ReadonlySet<unknown> = new Set([undefined, 'legacy', 'resp3']);

/**
 * Refuses a client the transport cannot work with: one that is not an ioredis 5 or 6 client, one with a
 * `keyPrefix` (which would also prefix the stream names in replies), or one set to a protocol or reply mapping
 * the transport does not know.
 *
 * @throws {@link IncompatibleClientError} saying what is wrong and what is supported.
 */
export function checkClient(client: RedisClient): void {
  const missing = METHODS.filter(
    (method) => typeof (client as unknown as Record<string, unknown>)[method] !== 'function',
  );
  if (missing.length > 0 || typeof client.status !== 'string') {
    throw new IncompatibleClientError(
      'client',
      `the "redis" option has no ${missing.length > 0 ? missing.join(', ') : 'status'}: it is not an ioredis Redis or Cluster client`,
    );
  }
  const options = clientOptions(client);
  if (typeof options['keyPrefix'] === 'string' && options['keyPrefix'].length > 0) {
    throw new IncompatibleClientError(
      'client',
      `the client uses the ioredis keyPrefix "${options['keyPrefix']}", which would also prefix stream names in replies; pass an unprefixed client and use the transport's "prefix" option instead`,
    );
  }
  if (!PROTOCOLS.has(options['protocol']) || !REPLY_MAPPINGS.has(options['replyMapping'])) {
    throw new IncompatibleClientError(
      'client',
      `the client is set to protocol ${String(options['protocol'])} with replyMapping ${String(options['replyMapping'])}, which the transport does not know`,
    );
  }
}

/** The connection options of a client (a Cluster's are those of its nodes). */
function clientOptions(client: RedisClient): Record<string, unknown> {
  const options: unknown = isCluster(client)
    ? (client.options as { redisOptions?: unknown }).redisOptions
    : client.options;
  return typeof options === 'object' && options !== null ? (options as Record<string, unknown>) : {};
}

/**
 * A duplicate of `client` for the read loop: commands are neither queued while it is disconnected nor resent after a
 * reconnect. A read resent minutes later, after Redis restarted, could take entries of a partition whose lease has
 * passed to another member; failing it instead lets the loop check its lease first.
 */
export function duplicateForReading(client: RedisClient): RedisClient {
  if (isCluster(client)) {
    const redisOptions = (client.options as { redisOptions?: object }).redisOptions ?? {};
    return client.duplicate([], {
      enableOfflineQueue: false,
      redisOptions: { ...redisOptions, autoResendUnfulfilledCommands: false },
    });
  }
  return client.duplicate({ enableOfflineQueue: false, autoResendUnfulfilledCommands: false });
}

/** Where the client connects, for error messages: `host:port`, a socket path, or the cluster's startup nodes. */
export function describeAddress(client: RedisClient): string {
  if (isCluster(client)) {
    const nodes = (client as unknown as { startupNodes?: unknown }).startupNodes;
    if (Array.isArray(nodes) && nodes.length > 0) {
      return `cluster ${nodes.map((node) => describeNode(node)).join(', ')}`;
    }
    return 'cluster';
  }
  const { host, port, path } = client.options;
  if (typeof path === 'string' && path.length > 0) return path;
  return `${host ?? '127.0.0.1'}:${port ?? 6379}`;
}

function describeNode(node: unknown): string {
  if (typeof node === 'string' || typeof node === 'number') return String(node);
  if (typeof node === 'object' && node !== null) {
    const { host, port } = node as { host?: unknown; port?: unknown };
    return `${String(host ?? '127.0.0.1')}:${String(port ?? 6379)}`;
  }
  return String(node);
}

/** Waits in progress, one per client: concurrent callers share it instead of adding listeners each. */
const waits = new WeakMap<RedisClient, Promise<void>>();

/**
 * Resolves once `client` is ready, starting a lazy client; rejects with {@link RedisUnavailableError} naming the
 * address after `timeoutMs`, or at once when the client was closed. Callers that ask while a wait is in progress
 * share it (and its deadline).
 */
export function whenReady(client: RedisClient, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  let wait = waits.get(client);
  if (wait === undefined) {
    wait = waitUntilReady(client, timeoutMs).finally(() => waits.delete(client));
    waits.set(client, wait);
  }
  return wait;
}

function waitUntilReady(client: RedisClient, timeoutMs: number): Promise<void> {
  if (client.status === 'end') {
    return Promise.reject(
      new RedisUnavailableError(
        describeAddress(client),
        'cannot be used: the ioredis client was closed (quit or disconnect). Pass an open client.',
      ),
    );
  }
  if (client.status === 'wait') client.connect().catch(() => undefined);
  return new Promise<void>((resolve, reject) => {
    let lastError: unknown;
    const onError = (error: unknown): void => {
      lastError = error;
    };
    const onReady = (): void => {
      cleanup();
      resolve();
    };
    const onEnd = (): void => {
      cleanup();
      reject(
        new RedisUnavailableError(describeAddress(client), 'closed the connection for good', {
          cause: lastError,
        }),
      );
    };
    const timer = setTimeout(() => {
      cleanup();
      const detail = lastError instanceof Error ? `: ${lastError.message}` : '';
      reject(
        new RedisUnavailableError(
          describeAddress(client),
          `is not reachable after ${timeoutMs} ms (client status "${client.status}"${detail}). Check that Redis runs there, or raise connectTimeoutMs.`,
          { cause: lastError },
        ),
      );
    }, timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      client.off('ready', onReady);
      client.off('error', onError);
      client.off('end', onEnd);
    };
    client.on('ready', onReady);
    client.on('error', onError);
    client.on('end', onEnd);
  });
}

/** A Lua script run with EVALSHA, falling back to EVAL when the server does not have it cached. */
export class LuaScript {
  readonly source: string;
  readonly sha: string;

  constructor(source: string) {
    this.source = source;
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(
    client: RedisClient,
    keys: ReadonlyArray<string>,
    args: ReadonlyArray<string | number>,
  ): Promise<unknown> {
    try {
      return await client.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return client.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

/**
 * Whether an error is the connection failing rather than Redis refusing a command: ioredis gave up on it
 * (`MaxRetriesPerRequestError`), the connection closed under it, or could not be made.
 */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return (
    error.name === 'MaxRetriesPerRequestError' ||
    /Connection is closed|Stream isn't writeable|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE/.test(error.message)
  );
}

/** Whether an error is Redis saying a stream or consumer group does not exist (deleted, or lost in a restart). */
export function isNoGroup(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOGROUP');
}

/** Whether an error is Redis saying the consumer group already exists. */
export function isBusyGroup(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('BUSYGROUP');
}

/** Resolves after `ms` milliseconds, or at once when `signal` aborts. */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

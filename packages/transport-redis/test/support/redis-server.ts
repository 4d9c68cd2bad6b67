import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, removeDir, trackDir } from '@relaybus/test-support';
import { afterAll, beforeAll } from 'vitest';
import { RedisProcess } from './redis-process';

/** How to run a private redis-server. */
export interface RedisServerOptions {
  /**
   * Append-only file on, so data survives a restart (`kill('SIGKILL')` then `restart()` included).
   * @defaultValue false
   */
  readonly appendOnly?: boolean;
  /**
   * When the AOF is fsynced; `always` loses nothing acknowledged, even on SIGKILL.
   * @defaultValue 'everysec'
   */
  readonly appendFsync?: 'always' | 'everysec' | 'no';
  /**
   * The port to listen on, for a test that points clients at it before the server runs (see {@link freePort}).
   * @defaultValue a free port the OS picks
   */
  readonly port?: number;
  /** More `redis-server` arguments, such as `['--maxmemory', '64mb']`. */
  readonly args?: ReadonlyArray<string>;
  /**
   * Longest wait for the server to answer PING after (re)starting, in milliseconds.
   * @defaultValue 15000
   */
  readonly startTimeoutMs?: number;
}

/** A private redis-server on a free loopback port, with its data in its own temp dir. */
export interface RedisServer {
  readonly host: string;
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** The server's working dir (AOF, RDB). */
  readonly dir: string;
  /** Process id while it runs. */
  pid(): number | undefined;
  running(): boolean;
  /** The tail of the server's log, for failure messages. */
  log(): string;
  /** Sends a signal; for a terminating one, resolves once the process exited. The data dir stays. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Shuts down gracefully if running, then starts again on the same port and dir; resolves when it answers. */
  restart(): Promise<void>;
  /** Shuts down and removes the data dir for good. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts a private redis-server on 127.0.0.1 and a free port, in a new temp dir, RDB snapshots off.
 * Stop it with `stop()`; if the test process exits first, it is killed and its dir removed anyway.
 *
 * @example
 * ```ts
 * const server = await startRedisServer({ appendOnly: true, appendFsync: 'always' });
 * await server.kill('SIGKILL');
 * await server.restart(); // data written before the kill is back
 * await server.stop();
 * ```
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'relaybus-redis-'));
  trackDir(dir);
  const port = options.port ?? (await freePort());
  const args = [
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    options.appendOnly === true ? 'yes' : 'no',
    '--appendfsync',
    options.appendFsync ?? 'everysec',
    '--daemonize',
    'no',
    '--loglevel',
    'notice',
    ...(options.args ?? []),
  ];
  const server = new RedisProcess(port, args, options.startTimeoutMs ?? 15_000);
  let stopped = false;
  try {
    await server.start();
  } catch (error) {
    await server.kill('SIGKILL');
    removeDir(dir);
    throw error;
  }
  return {
    host: '127.0.0.1',
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    pid: () => server.pid,
    running: () => server.running(),
    log: () => server.log(),
    kill: (signal = 'SIGKILL') => server.kill(signal),
    async restart() {
      if (stopped) throw new Error(`redis-server on port ${port} was stopped for good; start a new one`);
      await server.stop();
      await server.start();
    },
    async stop() {
      stopped = true;
      await server.stop();
      removeDir(dir);
    },
  };
}

/**
 * Starts a private redis-server before the tests of the current file (or `describe`) and stops it after them.
 * Returns a getter, since the server exists only once `beforeAll` ran.
 *
 * @example
 * ```ts
 * const redis = useRedisServer({ appendOnly: true });
 * it('works', async () => { const client = new Redis(redis().url); ... });
 * ```
 */
export function useRedisServer(options: RedisServerOptions = {}): () => RedisServer {
  let server: RedisServer | undefined;
  beforeAll(async () => {
    server = await startRedisServer(options);
  });
  afterAll(async () => {
    await server?.stop();
  });
  return () => {
    if (server === undefined)
      throw new Error('the private redis-server is not started: use it inside a test');
    return server;
  };
}

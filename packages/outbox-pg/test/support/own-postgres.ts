import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@relaybus/test-support';

/** A throwaway Postgres cluster on a free loopback port, for tests that stop or restart the server. */
export interface OwnPostgres {
  readonly port: number;
  stop(): void;
  start(): void;
  /** Stops the server and deletes its data directory. */
  destroy(): void;
}

function binDir(): string {
  const versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a));
  const latest = versions[0];
  if (latest === undefined) throw new Error('no Postgres server binaries under /usr/lib/postgresql');
  return `/usr/lib/postgresql/${latest}/bin`;
}

/**
 * initdb + pg_ctl into a temp dir (trust auth, user `postgres`), run as the `postgres` OS user when this process
 * is root (initdb refuses root). Never touches the shared server.
 *
 * @example
 * ```ts
 * const pg = await startOwnPostgres();
 * pg.stop(); pg.start(); pg.destroy();
 * ```
 */
export async function startOwnPostgres(): Promise<OwnPostgres> {
  const bin = binDir();
  const dir = mkdtempSync(join(tmpdir(), 'relaybus-pg-'));
  const data = join(dir, 'data');
  const asRoot = userInfo().uid === 0;
  if (asRoot) {
    chmodSync(dir, 0o755);
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid, gid);
  }
  const exec = (tool: string, args: string[]): void => {
    const command = asRoot ? 'runuser' : `${bin}/${tool}`;
    const argv = asRoot ? ['-u', 'postgres', '--', `${bin}/${tool}`, ...args] : args;
    execFileSync(command, argv, { stdio: 'pipe', timeout: 60_000 });
  };
  const port = await freePort();
  exec('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  const start = (): void =>
    exec('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', 'start']);
  const stop = (): void => exec('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
  start();
  return {
    port,
    start,
    stop,
    destroy() {
      try {
        stop();
      } catch {
        // Already stopped.
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

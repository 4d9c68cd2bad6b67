import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, removeDir, ServerProcess, trackDir } from '@relaybus/test-support';

/** Debian's nats-server, else whatever `nats-server` the PATH finds. */
const NATS_SERVER =
  process.env['NATS_SERVER_BIN'] ??
  (existsSync('/usr/sbin/nats-server') ? '/usr/sbin/nats-server' : 'nats-server');
const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 10_000;

/**
 * A nats-server of the test's own, with JetStream on a temporary store directory, on a free loopback port. It can be
 * killed and started again on the same port and store (a restart), and is removed with its directory by `stop()`
 * (and, as a last resort, when the test process exits).
 *
 * @example
 * ```ts
 * const server = await NatsServer.start();
 * await server.kill();
 * await server.restart();
 * await server.stop();
 * ```
 */
export class NatsServer {
  readonly port: number;
  readonly storeDir: string;
  readonly #extraArgs: ReadonlyArray<string>;
  #server: ServerProcess | undefined;

  private constructor(port: number, storeDir: string, extraArgs: ReadonlyArray<string>) {
    this.port = port;
    this.storeDir = storeDir;
    this.#extraArgs = extraArgs;
  }

  /** Starts a server; `extraArgs` go to nats-server as they are (`--user`, `--pass`...). */
  static async start(extraArgs: ReadonlyArray<string> = []): Promise<NatsServer> {
    const storeDir = mkdtempSync(join(tmpdir(), 'relaybus-nats-'));
    trackDir(storeDir);
    const server = new NatsServer(await freePort(), storeDir, extraArgs);
    await server.restart();
    return server;
  }

  /** `127.0.0.1:<port>`. */
  get url(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** The tail of the server's log, for failure messages. */
  log(): string {
    return this.#server?.log() ?? '';
  }

  /** Whether the server process is alive. */
  running(): boolean {
    return this.#server?.running() ?? false;
  }

  /** Starts the process (again) on the same port and store, and waits until JetStream answers. */
  async restart(): Promise<void> {
    if (this.running()) throw new Error(`nats-server on port ${this.port} is already running`);
    const args = [
      '-a',
      '127.0.0.1',
      '-p',
      String(this.port),
      '-js',
      '-sd',
      this.storeDir,
      ...this.#extraArgs,
    ];
    const server = ServerProcess.start(NATS_SERVER, args);
    this.#server = server;
    await server.waitUntil(() => server.log().includes('Server is ready'), {
      timeoutMs: START_TIMEOUT_MS,
      what: () => `nats-server on port ${this.port} to start`,
    });
  }

  /** SIGKILLs the server (no shutdown of any kind) and waits for it to exit. */
  async kill(): Promise<void> {
    await this.#server?.kill('SIGKILL');
  }

  /** Stops the server (SIGTERM, SIGKILL after 10 s) and removes its store. */
  async stop(): Promise<void> {
    await this.#server?.stop(STOP_TIMEOUT_MS);
    removeDir(this.storeDir);
  }
}

import { ServerProcess } from '@relaybus/test-support';
import { rawCommand } from './redis-ping';

const REDIS_SERVER = process.env['REDIS_SERVER_BIN'] ?? '/usr/bin/redis-server';
const STOP_TIMEOUT_MS = 10_000;

/**
 * One redis-server child process, run in the foreground so this process owns it, with its log kept in memory
 * for error messages. Starting waits for PING to answer PONG (a server loading its AOF answers LOADING).
 */
export class RedisProcess {
  #server: ServerProcess | undefined;

  constructor(
    readonly port: number,
    private readonly args: ReadonlyArray<string>,
    private readonly startTimeoutMs: number,
  ) {}

  /** Process id while running. */
  get pid(): number | undefined {
    return this.#server?.pid;
  }

  /** Whether the process is alive (a stopped, SIGSTOPped process counts as alive). */
  running(): boolean {
    return this.#server?.running() ?? false;
  }

  /** The tail of the server's log. */
  log(): string {
    return this.#server?.log() ?? '';
  }

  async start(): Promise<void> {
    if (this.running()) throw new Error(`redis-server on port ${this.port} is already running`);
    const server = ServerProcess.start(REDIS_SERVER, ['--port', String(this.port), ...this.args]);
    this.#server = server;
    let last: string | undefined;
    const answersPing = async (): Promise<boolean> => {
      last = await rawCommand(this.port, 'PING');
      return last === '+PONG';
    };
    await server.waitUntil(answersPing, {
      timeoutMs: this.startTimeoutMs,
      what: () => `redis-server on port ${this.port} to answer PING (last reply: ${last ?? 'none'})`,
    });
  }

  /** Sends `signal`; for a terminating signal, resolves once the process has exited. */
  async kill(signal: NodeJS.Signals): Promise<void> {
    await this.#server?.kill(signal);
  }

  /** Graceful shutdown (SIGTERM: redis-server fsyncs the AOF and exits); SIGKILL if it takes too long. */
  async stop(): Promise<void> {
    await this.#server?.stop(STOP_TIMEOUT_MS);
  }
}

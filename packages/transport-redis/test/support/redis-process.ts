import { type ChildProcess, spawn } from 'node:child_process';
import { trackChild } from './cleanup';
import { waitForReply } from './redis-ping';

const REDIS_SERVER = process.env['REDIS_SERVER_BIN'] ?? '/usr/bin/redis-server';
const LOG_LIMIT_CHARS = 16_000;
const STOP_TIMEOUT_MS = 10_000;

/** Signals after which the process keeps running, so `kill` must not wait for it to exit. */
const NON_TERMINAL = new Set<NodeJS.Signals>(['SIGSTOP', 'SIGCONT', 'SIGTSTP', 'SIGUSR1', 'SIGUSR2']);

/**
 * One redis-server child process, run in the foreground so this process owns it, with its log kept in memory
 * for error messages. Starting waits for PING to answer PONG (a server loading its AOF answers LOADING).
 */
export class RedisProcess {
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #log = '';

  constructor(
    readonly port: number,
    private readonly args: ReadonlyArray<string>,
    private readonly startTimeoutMs: number,
  ) {}

  /** Process id while running. */
  get pid(): number | undefined {
    return this.running() ? this.#child?.pid : undefined;
  }

  /** Whether the process is alive (a stopped, SIGSTOPped process counts as alive). */
  running(): boolean {
    const child = this.#child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  /** The tail of the server's log. */
  log(): string {
    return this.#log;
  }

  async start(): Promise<void> {
    if (this.running()) throw new Error(`redis-server on port ${this.port} is already running`);
    const child = spawn(REDIS_SERVER, ['--port', String(this.port), ...this.args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    trackChild(child);
    this.#child = child;
    const append = (chunk: Buffer): void => {
      this.#log = (this.#log + chunk.toString('utf8')).slice(-LOG_LIMIT_CHARS);
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const spawnFailed = new Promise<never>((_, reject) =>
      child.once('error', (error) => reject(new Error(`cannot run ${REDIS_SERVER}: ${error.message}`))),
    );
    await Promise.race([
      spawnFailed,
      waitForReply(
        this.port,
        'PING',
        (reply) => reply === '+PONG',
        this.startTimeoutMs,
        () => `redis-server on port ${this.port} to answer PING; its log:\n${this.#log}`,
      ),
    ]);
  }

  /** Sends `signal`; for a terminating signal, resolves once the process has exited. */
  async kill(signal: NodeJS.Signals): Promise<void> {
    const child = this.#child;
    if (child === undefined || !this.running()) return;
    child.kill(signal);
    if (!NON_TERMINAL.has(signal)) await this.#exited;
  }

  /** Graceful shutdown (SIGTERM: redis-server fsyncs the AOF and exits); SIGKILL if it takes too long. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (child === undefined || !this.running()) return;
    // A SIGSTOPped server cannot act on SIGTERM until it is continued.
    child.kill('SIGCONT');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await this.#exited;
    clearTimeout(timer);
  }
}

import { type ChildProcess, spawn } from 'node:child_process';
import { waitFor } from '@relaybus/core/testing';
import { trackChild } from './cleanup';

/** Signals after which the process keeps running, so `kill` must not wait for it to exit. */
const NON_TERMINAL = new Set<NodeJS.Signals>(['SIGSTOP', 'SIGCONT', 'SIGTSTP', 'SIGUSR1', 'SIGUSR2']);
const PAUSING = new Set<NodeJS.Signals>(['SIGSTOP', 'SIGTSTP']);

/** Options of {@link ServerProcess.start}. */
export interface ServerProcessOptions {
  /** The server's environment. @defaultValue this process's environment */
  readonly env?: NodeJS.ProcessEnv;
  /** The working directory. @defaultValue this process's working directory */
  readonly cwd?: string;
  /**
   * How much of the server's output is kept for failure messages, in characters (the newest).
   * @defaultValue 16000
   */
  readonly logLimitChars?: number;
}

/** Options of {@link ServerProcess.waitUntil}. */
export interface ServerReadyWait {
  /** Longest wait, in milliseconds. */
  readonly timeoutMs: number;
  /**
   * Pause between two checks, in milliseconds.
   * @defaultValue 50
   */
  readonly intervalMs?: number;
  /** What is waited for, for the error, such as `nats-server on port 4222 to start`. */
  readonly what: () => string;
}

/**
 * A broker (redis-server, nats-server, rabbitmq-server) run in the foreground as a child process, so this process
 * owns it: its output is kept for failure messages, and it is SIGKILLed if this process exits first. What "ready"
 * means is the broker's own (an answer to PING, a log line, an AMQP handshake): see {@link ServerProcess.waitUntil}.
 * One instance is one process; a restart starts another.
 *
 * @example
 * ```ts
 * const server = ServerProcess.start('/usr/sbin/nats-server', ['-p', String(port), '-js']);
 * await server.waitUntil(() => server.log().includes('Server is ready'), {
 *   timeoutMs: 15_000,
 *   what: () => `nats-server on port ${port} to start`,
 * });
 * await server.stop(10_000);
 * ```
 */
export class ServerProcess {
  readonly #command: string;
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;
  readonly #spawnFailed: Promise<never>;
  #log = '';
  #paused = false;

  private constructor(command: string, child: ChildProcess, logLimitChars: number) {
    this.#command = command;
    this.#child = child;
    const append = (chunk: Buffer): void => {
      this.#log = (this.#log + chunk.toString('utf8')).slice(-logLimitChars);
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    this.#spawnFailed = new Promise<never>((_, reject) =>
      child.once('error', (error) => reject(new Error(`cannot run ${command}: ${error.message}`))),
    );
    // Only a wait reports it; nothing else may see an unhandled rejection.
    this.#spawnFailed.catch(() => undefined);
  }

  /**
   * Spawns `command` with `args` (stdin closed, stdout and stderr kept in {@link ServerProcess.log}).
   *
   * @example
   * ```ts
   * const server = ServerProcess.start('/usr/bin/redis-server', ['--port', String(port)]);
   * ```
   */
  static start(
    command: string,
    args: ReadonlyArray<string>,
    options: ServerProcessOptions = {},
  ): ServerProcess {
    const child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.env === undefined ? {} : { env: options.env }),
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    });
    trackChild(child);
    return new ServerProcess(command, child, options.logLimitChars ?? 16_000);
  }

  /** Process id while running. */
  get pid(): number | undefined {
    return this.running() ? this.#child.pid : undefined;
  }

  /** Resolves once the process has exited. */
  get exited(): Promise<void> {
    return this.#exited;
  }

  /** Whether the process is alive (a SIGSTOPped process counts as alive). */
  running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** The tail of the server's output. */
  log(): string {
    return this.#log;
  }

  /**
   * Polls `ready` until it returns true.
   *
   * @throws `Error` naming `what` and carrying the log when the wait times out, when the process exits first, or
   * when the command could not be run at all.
   * @example
   * ```ts
   * await server.waitUntil(async () => (await rawCommand(port, 'PING')) === '+PONG', {
   *   timeoutMs: 15_000,
   *   what: () => `redis-server on port ${port} to answer PING`,
   * });
   * ```
   */
  async waitUntil(ready: () => boolean | Promise<boolean>, wait: ServerReadyWait): Promise<void> {
    await Promise.race([
      this.#spawnFailed,
      waitFor(
        async () => {
          if (!this.running()) {
            throw new Error(
              `${this.#command} exited (${this.#child.signalCode ?? this.#child.exitCode}) before ${wait.what()}; its log:\n${this.#log}`,
            );
          }
          return ready();
        },
        {
          timeoutMs: wait.timeoutMs,
          intervalMs: wait.intervalMs ?? 50,
          message: () => `${wait.what()}; its log:\n${this.#log}`,
        },
      ),
    ]);
  }

  /** Sends `signal`; for a terminating one, resolves once the process has exited. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.running()) return;
    this.#child.kill(signal);
    if (PAUSING.has(signal)) this.#paused = true;
    else if (signal === 'SIGCONT') this.#paused = false;
    if (!NON_TERMINAL.has(signal)) await this.#exited;
  }

  /** Graceful shutdown: SIGTERM, then SIGKILL if it has not exited after `timeoutMs`. */
  async stop(timeoutMs: number): Promise<void> {
    if (!this.running()) return;
    // A SIGSTOPped process cannot act on SIGTERM until it is continued.
    if (this.#paused) this.#child.kill('SIGCONT');
    this.#child.kill('SIGTERM');
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), timeoutMs);
    await this.#exited;
    clearTimeout(timer);
  }
}

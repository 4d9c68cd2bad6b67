import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { waitFor } from '@relaybus/core/testing';
import { trackChild } from './cleanup';

const OUTPUT_LIMIT_CHARS = 16_000;

/** A TypeScript file running in its own Node process, talking to this one over IPC. */
export interface TsProcess<TIn, TOut> {
  readonly pid: number;
  /** Every IPC message received so far, in order. */
  readonly messages: ReadonlyArray<TOut>;
  /** Calls `listener` with every IPC message received from now on, for a child that asks and waits for answers. */
  onMessage(listener: (message: TOut) => void): void;
  /** Sends an IPC message; ignored once the process has exited. */
  send(message: TIn): void;
  /** Resolves with the first message (already received or coming) that matches; fails after `timeoutMs`. */
  waitForMessage(match: (message: TOut) => boolean, timeoutMs: number, what: string): Promise<TOut>;
  /** Sends `signal` and resolves once the process exited. */
  kill(signal?: NodeJS.Signals): Promise<ProcessExit>;
  /** Resolves when the process exits. */
  readonly exited: Promise<ProcessExit>;
  /** The tail of stderr and stdout together, for failure messages. */
  output(): string;
  /** The tail of stdout alone, for a script whose printed lines are checked. */
  stdout(): string;
}

/** How a process ended. */
export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Options of {@link startTsProcess}. */
export interface TsProcessOptions {
  /** Added to this process's environment. */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * The working directory.
   * @defaultValue the directory of the nearest `package.json` above the script (its package)
   */
  readonly cwd?: string;
}

/**
 * Runs `script` (a `.ts` file) in a new Node process with tsx's loader and the `@relaybus/source` condition, so
 * workspace packages resolve to their sources, as `tsx --conditions=@relaybus/source` does. Node is started
 * directly rather than through the `tsx` CLI: the CLI runs the script in a grandchild, which a SIGKILL sent to
 * the CLI would leave running. The process is SIGKILLed if this one exits first.
 *
 * @throws `Error` when no process could be started.
 * @example
 * ```ts
 * const child = startTsProcess<Command, Report>(script, { env: { CONFIG: '{}' } });
 * await child.waitForMessage((m) => m.type === 'ready', 10_000, 'ready');
 * ```
 */
export function startTsProcess<TIn, TOut>(
  script: string,
  options: TsProcessOptions = {},
): TsProcess<TIn, TOut> {
  const require = createRequire(import.meta.url);
  const loader = pathToFileURL(require.resolve('tsx')).href;
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', loader, '--conditions=@relaybus/source', script],
    {
      cwd: options.cwd ?? packageDirOf(script),
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    },
  );
  trackChild(child);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${script}`);
  const messages: TOut[] = [];
  let output = '';
  let stdout = '';
  const append = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_LIMIT_CHARS);
  };
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout = (stdout + chunk.toString('utf8')).slice(-OUTPUT_LIMIT_CHARS);
    append(chunk);
  });
  child.stderr?.on('data', append);
  child.on('message', (message) => messages.push(message as TOut));
  const exited = new Promise<ProcessExit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const alive = (): boolean => child.exitCode === null && child.signalCode === null;
  return {
    pid,
    messages,
    exited,
    output: () => output,
    stdout: () => stdout,
    onMessage(listener) {
      child.on('message', (message) => listener(message as TOut));
    },
    send(message) {
      if (alive() && child.connected) child.send(message as object);
    },
    async waitForMessage(match, timeoutMs, what) {
      let found: TOut | undefined;
      let ended: ProcessExit | undefined;
      void exited.then((exit) => {
        ended = exit;
      });
      await waitFor(
        () => {
          found = messages.find(match);
          if (found === undefined && ended !== undefined) {
            throw new Error(
              `${script} exited (${ended.signal ?? ended.code}) before ${what}; its output:\n${output}`,
            );
          }
          return found !== undefined;
        },
        { timeoutMs, intervalMs: 10, message: () => `${what} from ${script}; its output:\n${output}` },
      );
      return found as TOut;
    },
    async kill(signal = 'SIGKILL') {
      if (alive()) child.kill(signal);
      return exited;
    },
  };
}

/**
 * Starts `script` as {@link startTsProcess} does and resolves once it sent a message `isReady` accepts.
 *
 * @throws `Error` with the process's output when no such message comes within `timeoutMs` (the process is
 * SIGKILLed then) or the process exits first.
 * @example
 * ```ts
 * const worker = await startReadyTsProcess<never, Report>(script, (m) => m.type === 'ready', { env });
 * ```
 */
export async function startReadyTsProcess<TIn, TOut>(
  script: string,
  isReady: (message: TOut) => boolean,
  options: TsProcessOptions = {},
  timeoutMs = 20_000,
): Promise<TsProcess<TIn, TOut>> {
  const child = startTsProcess<TIn, TOut>(script, options);
  try {
    await child.waitForMessage(isReady, timeoutMs, 'ready');
  } catch (error) {
    await child.kill('SIGKILL');
    throw error;
  }
  return child;
}

/**
 * Absolute path of a file relative to the caller's module, for {@link startTsProcess}.
 *
 * @example
 * ```ts
 * const script = besideModule(import.meta.url, 'support/consumer-main.ts');
 * ```
 */
export function besideModule(moduleUrl: string, file: string): string {
  return `${dirname(fileURLToPath(moduleUrl))}/${file}`;
}

/** The package a file belongs to: the nearest directory above it with a `package.json`. */
function packageDirOf(file: string): string {
  let dir = dirname(file);
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) return dirname(file);
    dir = parent;
  }
  return dir;
}

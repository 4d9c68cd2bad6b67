import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { waitFor } from '@relaybus/core/testing';
import { trackChild } from './cleanup';

const OUTPUT_LIMIT_CHARS = 16_000;
const PACKAGE_DIR = fileURLToPath(new URL('../../', import.meta.url));

/** A TypeScript file running in its own Node process, talking to this one over IPC. */
export interface TsProcess<TIn, TOut> {
  readonly pid: number;
  /** Every IPC message received so far, in order. */
  readonly messages: ReadonlyArray<TOut>;
  /** Sends an IPC message; ignored once the process has exited. */
  send(message: TIn): void;
  /** Resolves with the first message (already received or coming) that matches; fails after `timeoutMs`. */
  waitForMessage(match: (message: TOut) => boolean, timeoutMs: number, what: string): Promise<TOut>;
  /** Sends `signal` and resolves once the process exited. */
  kill(signal?: NodeJS.Signals): Promise<ProcessExit>;
  /** Resolves when the process exits. */
  readonly exited: Promise<ProcessExit>;
  /** stderr and stdout, for failure messages. */
  output(): string;
}

/** How a process ended. */
export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/**
 * Runs `script` (a `.ts` file) in a new Node process with tsx's loader and the `@relaybus/source` condition, so
 * workspace packages resolve to their sources, as `tsx --conditions=@relaybus/source` does. Node is started
 * directly rather than through the `tsx` CLI: the CLI runs the script in a grandchild, which a SIGKILL sent to
 * the CLI would leave running. The process is SIGKILLed if this one exits first.
 *
 * @example
 * ```ts
 * const child = await startTsProcess<Command, Report>(script, { env: { CONFIG: '{}' } });
 * await child.waitForMessage((m) => m.type === 'ready', 10_000, 'ready');
 * ```
 */
export function startTsProcess<TIn, TOut>(
  script: string,
  options: { readonly env?: Readonly<Record<string, string>> } = {},
): TsProcess<TIn, TOut> {
  const require = createRequire(import.meta.url);
  const loader = pathToFileURL(require.resolve('tsx')).href;
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', loader, '--conditions=@relaybus/source', script],
    {
      cwd: PACKAGE_DIR,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    },
  );
  trackChild(child);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${script}`);
  const messages: TOut[] = [];
  let output = '';
  const append = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_LIMIT_CHARS);
  };
  child.stdout?.on('data', append);
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

/** Absolute path of a file next to the caller's module, for `startTsProcess`. */
export function besideModule(moduleUrl: string, file: string): string {
  return `${dirname(fileURLToPath(moduleUrl))}/${file}`;
}

import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { StoredEvent } from '@relaybus/core';

const root = fileURLToPath(new URL('../../../../', import.meta.url));

/** A relay running in a child process (see `relay-child.ts`). */
export interface RelayProcess {
  readonly child: ChildProcess;
  /** Resolves with the signal that ended the process (`null` for a normal exit). */
  readonly exited: Promise<NodeJS.Signals | null>;
  /** SIGKILLs it and waits for the exit. */
  kill(): Promise<void>;
}

/**
 * Starts a relay over `schema` in a child process that writes every message it publishes to `file`. `script`
 * replaces the child (default `relay-child.ts`, next to this file); `ipc` opens an IPC channel to it.
 *
 * @example
 * ```ts
 * const relay = spawnRelay(schema, file);
 * await relay.kill();
 * ```
 */
export function spawnRelay(
  schema: string,
  file: string,
  env: Record<string, string> = {},
  options: { readonly script?: string; readonly ipc?: boolean } = {},
): RelayProcess {
  // Node itself with tsx as a loader, not the tsx CLI: the CLI runs the script in a child process of its own, which
  // would outlive a SIGKILL sent to the CLI.
  const script = new URL(`./${options.script ?? 'relay-child.ts'}`, import.meta.url);
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=@relaybus/source', fileURLToPath(script)],
    {
      cwd: root,
      env: { ...process.env, ...env, RELAY_SCHEMA: schema, RELAY_FILE: file },
      stdio: options.ipc === true ? ['ignore', 'ignore', 'inherit', 'ipc'] : ['ignore', 'ignore', 'inherit'],
    },
  );
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.on('exit', (_, signal) => resolve(signal)),
  );
  return {
    child,
    exited,
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/**
 * The messages the child relays wrote to `file` so far.
 *
 * @example
 * ```ts
 * const ids = new Set(published(file).map((m) => m.id));
 * ```
 */
export function published(file: string): Array<{ id: string; body: StoredEvent }> {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.endsWith('}'))
    .map((line) => JSON.parse(line) as { id: string; body: StoredEvent });
}

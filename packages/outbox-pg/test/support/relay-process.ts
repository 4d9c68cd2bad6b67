import { existsSync, readFileSync } from 'node:fs';
import type { StoredEvent } from '@relaybus/core';
import { besideModule, startTsProcess, type TsProcess } from '@relaybus/test-support';

/** A relay running in a child process (see `relay-child.ts`). */
export interface RelayProcess {
  /** The process, for a child that talks over IPC (see `job-relay-child.ts`). */
  readonly child: TsProcess<unknown, unknown>;
  /** Resolves with the signal that ended the process (`null` for a normal exit). */
  readonly exited: Promise<NodeJS.Signals | null>;
  /** SIGKILLs it and waits for the exit. */
  kill(): Promise<void>;
}

/**
 * Starts a relay over `schema` in a child process that writes every message it publishes to `file`. `script`
 * replaces the child (default `relay-child.ts`, next to this file).
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
  options: { readonly script?: string } = {},
): RelayProcess {
  const child = startTsProcess<unknown, unknown>(
    besideModule(import.meta.url, options.script ?? 'relay-child.ts'),
    { env: { ...env, RELAY_SCHEMA: schema, RELAY_FILE: file } },
  );
  return {
    child,
    exited: child.exited.then((exit) => exit.signal),
    async kill() {
      await child.kill('SIGKILL');
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

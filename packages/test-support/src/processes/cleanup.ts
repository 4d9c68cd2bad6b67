import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

/**
 * Last-resort cleanup for everything a test spawns or creates. `afterAll` hooks stop things in order; this runs on
 * process exit and on SIGTERM, SIGINT or SIGHUP (a test worker torn down early), so no broker or child process
 * outlives the test run and no temp dir is left behind. Only what was registered here is touched.
 */
const children = new Set<ChildProcess>();
const dirs = new Set<string>();
let installed = false;

function cleanUp(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  children.clear();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs.clear();
}

/** Cleans up, then lets the signal do what it would have done: our listener must not keep the process alive. */
function onSignal(signal: NodeJS.Signals): void {
  cleanUp();
  process.off(signal, onSignal);
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function install(): void {
  if (installed) return;
  installed = true;
  process.once('exit', cleanUp);
  // A test worker stopped with a signal never emits 'exit'.
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, onSignal);
}

/**
 * Kills `child` with SIGKILL if it is still running when this process exits; returns a function to forget it.
 *
 * @example
 * ```ts
 * const child = spawn('nats-server', args);
 * trackChild(child);
 * ```
 */
export function trackChild(child: ChildProcess): () => void {
  install();
  children.add(child);
  const forget = (): void => {
    children.delete(child);
  };
  child.once('exit', forget);
  return forget;
}

/**
 * Removes `dir` when this process exits, unless {@link removeDir} removed it first.
 *
 * @example
 * ```ts
 * const dir = mkdtempSync(join(tmpdir(), 'relaybus-nats-'));
 * trackDir(dir);
 * ```
 */
export function trackDir(dir: string): void {
  install();
  dirs.add(dir);
}

/** Removes a tracked dir now (and forgets it). */
export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  dirs.delete(dir);
}

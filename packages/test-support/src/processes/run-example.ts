import { type ProcessExit, startTsProcess } from './ts-process';

/** How an example run by {@link runExample} ended, and what it printed. */
export interface ExampleRun {
  /** How it exited, or `'still running'` when it had to be killed at the timeout. */
  readonly exit: ProcessExit | 'still running';
  /** The tail of stderr and stdout together. */
  readonly output: string;
  /** The tail of stdout alone. */
  readonly stdout: string;
}

/**
 * Runs an example file to its end, as a user would (`tsx` with the workspace sources, from its package's
 * directory), with `env` added; SIGKILLs it after `timeoutMs`.
 *
 * @example
 * ```ts
 * const { exit, output } = await runExample(besideModule(import.meta.url, '../examples/jobs.ts'), { REDIS_URL });
 * expect(exit, output).toEqual({ code: 0, signal: null });
 * ```
 */
export async function runExample(
  file: string,
  env: Readonly<Record<string, string>>,
  timeoutMs = 30_000,
): Promise<ExampleRun> {
  const child = startTsProcess(file, { env });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const exit = await Promise.race([
    child.exited,
    new Promise<'still running'>((resolve) => {
      timer = setTimeout(() => resolve('still running'), timeoutMs);
    }),
  ]).finally(() => clearTimeout(timer));
  if (exit === 'still running') await child.kill('SIGKILL');
  return { exit, output: child.output(), stdout: child.stdout() };
}

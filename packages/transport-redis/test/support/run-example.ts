import { type ProcessExit, startTsProcess } from './ts-process';

/**
 * Runs an example file to its end, as a user would (`tsx` with the workspace sources), with `env` added; SIGKILLs it
 * after `timeoutMs`. Resolves with how it exited (`'still running'` when it had to be killed) and its output.
 *
 * @example
 * ```ts
 * const { exit, output } = await runExample(besideModule(import.meta.url, '../examples/jobs.ts'), { REDIS_URL });
 * ```
 */
export async function runExample(
  file: string,
  env: Readonly<Record<string, string>>,
  timeoutMs = 30_000,
): Promise<{ readonly exit: ProcessExit | 'still running'; readonly output: string }> {
  const child = startTsProcess(file, { env });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const exit = await Promise.race([
    child.exited,
    new Promise<'still running'>((resolve) => {
      timer = setTimeout(() => resolve('still running'), timeoutMs);
    }),
  ]).finally(() => clearTimeout(timer));
  if (exit === 'still running') await child.kill('SIGKILL');
  return { exit, output: child.output() };
}

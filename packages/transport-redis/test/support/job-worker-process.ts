import { JOB_WORKER_CONFIG_ENV, type JobWorkerConfig, type JobWorkerReport } from './job-worker-protocol';
import { besideModule, startTsProcess, type TsProcess } from './ts-process';

const START_TIMEOUT_MS = 20_000;

/**
 * Starts a job worker process (job-worker-main.ts) and resolves once its worker runs.
 *
 * @example
 * ```ts
 * const victim = await startJobWorkerProcess({ connection: { url }, prefix, queue: 'q', mode: 'hold' });
 * await victim.waitForMessage((m) => m.type === 'started', 10_000, 'a job started');
 * await victim.kill('SIGKILL');
 * ```
 */
export async function startJobWorkerProcess(
  config: JobWorkerConfig,
): Promise<TsProcess<never, JobWorkerReport>> {
  const child = startTsProcess<never, JobWorkerReport>(besideModule(import.meta.url, 'job-worker-main.ts'), {
    env: { [JOB_WORKER_CONFIG_ENV]: JSON.stringify(config) },
  });
  try {
    await child.waitForMessage((report) => report.type === 'ready', START_TIMEOUT_MS, 'ready');
  } catch (error) {
    await child.kill('SIGKILL');
    throw error;
  }
  return child;
}

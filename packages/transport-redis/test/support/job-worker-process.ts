import { besideModule, startReadyTsProcess, type TsProcess } from '@relaybus/test-support';
import { JOB_WORKER_CONFIG_ENV, type JobWorkerConfig, type JobWorkerReport } from './job-worker-protocol';

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
export function startJobWorkerProcess(config: JobWorkerConfig): Promise<TsProcess<never, JobWorkerReport>> {
  return startReadyTsProcess<never, JobWorkerReport>(
    besideModule(import.meta.url, 'job-worker-main.ts'),
    (report) => report.type === 'ready',
    { env: { [JOB_WORKER_CONFIG_ENV]: JSON.stringify(config) } },
  );
}

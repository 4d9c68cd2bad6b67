// Runs in its own process (see job-worker-process.ts): a job queue on redisTransport with one worker whose handler
// reports every start over IPC, then completes, holds the job forever, or SIGKILLs this process (config.mode).
import { createJobQueue, silentLogger } from '@relaybus/core';
import { redisTransport } from '@relaybus/transport-redis';
import { newClient } from './client';
import { Task } from './job-definitions';
import { JOB_WORKER_CONFIG_ENV, type JobWorkerConfig, type JobWorkerReport } from './job-worker-protocol';

/** Resolves once the report is handed to the IPC channel, so that a SIGKILL right after does not lose it. */
function report(message: JobWorkerReport): Promise<void> {
  return new Promise((resolve) => {
    if (process.send === undefined) resolve();
    else process.send(message, undefined, {}, () => resolve());
  });
}

const raw = process.env[JOB_WORKER_CONFIG_ENV];
if (raw === undefined) throw new Error(`${JOB_WORKER_CONFIG_ENV} is not set`);
const config = JSON.parse(raw) as JobWorkerConfig;

const redis = newClient(config.connection, config.flavour);
const jobs = createJobQueue({
  transport: redisTransport({ redis, prefix: config.prefix }),
  jobs: [Task],
  queue: config.queue,
  logger: silentLogger,
  ...(config.leaseTtlMs === undefined ? {} : { leaseTtlMs: config.leaseTtlMs }),
});

jobs.work(
  {
    [Task.type]: async ({ label }, ctx) => {
      await report({ type: 'started', id: ctx.jobId, attempt: ctx.attempt });
      if (config.mode === 'kill-self') process.kill(process.pid, 'SIGKILL');
      if (config.mode === 'hold') await new Promise<never>(() => {});
      return { label, pid: process.pid };
    },
  },
  { concurrency: config.concurrency ?? 1 },
);

// The parent went away without killing us: do not linger.
process.on('disconnect', () => process.exit(0));
void report({ type: 'ready', pid: process.pid });

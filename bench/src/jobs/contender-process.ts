import { serveRequests } from '../lib/worker';
import { bullmqJobs } from './bullmq-jobs';
import { crashToRerun, holdJob } from './crash';
import type { JobSystem } from './job-system';
import { enqueueLatency, enqueueRate, processRate } from './measures';
import { relaybusJobs } from './relaybus-jobs';
import type { JobsRequest } from './requests';

/**
 * The process of one contender of the jobs benchmark (`--serve <system>`: measures on request), or the holder of a
 * crash trial's job (`--hold <system> <prefix>`). Forked by the runner; not imported.
 */
const SYSTEMS: ReadonlyArray<JobSystem> = [relaybusJobs, bullmqJobs];

function answer(system: JobSystem, request: JobsRequest): Promise<unknown> {
  switch (request.part) {
    case 'enqueue':
      return enqueueRate(system, request);
    case 'process':
      return processRate(system, request);
    case 'latency':
      return enqueueLatency(system, request);
    case 'crash':
      return crashToRerun(system, request);
  }
}

const [mode, name, prefix] = process.argv.slice(2);
const system = SYSTEMS.find((candidate) => candidate.name === name);
if (mode === '--hold' && system !== undefined && prefix !== undefined) {
  await holdJob(system, prefix);
} else if (mode === '--serve' && system !== undefined) {
  serveRequests((request) => answer(system, request as JobsRequest));
} else if (process.send !== undefined) {
  serveRequests(
    () => Promise.reject(new Error('not serving')),
    `cannot serve "${process.argv.slice(2).join(' ')}"`,
  );
}

// Measures one contender of an AMQP group in a process of its own (forked by amqp-bench.ts with the group id and
// the contender's name), answering throughput and latency requests like the shared groups' workers.
import type { LatencyResult } from '../lib/latency';
import { measureLatency } from '../lib/latency';
import { SETTINGS, settingsFor } from '../lib/settings';
import { measureThroughput } from '../lib/throughput';
import { serveRequests } from '../lib/worker';
import { AMQP_GROUPS } from './groups';

const [groupId, contenderName] = process.argv.slice(2);
const group = Object.values(AMQP_GROUPS)
  .flat()
  .find((candidate) => candidate.id === groupId);
const contender = group?.contenders.find((candidate) => candidate.name === contenderName);
if (group === undefined || contender === undefined) {
  serveRequests(
    () => Promise.reject(new Error('no contender')),
    `no contender "${contenderName}" in "${groupId}"`,
  );
} else {
  const settings = settingsFor(group, SETTINGS);
  serveRequests(
    (request): Promise<number | LatencyResult> =>
      (request as { kind: string }).kind === 'throughput'
        ? measureThroughput(contender, settings)
        : measureLatency(contender, settings),
  );
}

import { measureLatency } from '../lib/latency';
import type { BenchSettings } from '../lib/settings';
import { measureThroughput } from '../lib/throughput';
import { serveRequests } from '../lib/worker';
import { natsContender } from './contenders';

/**
 * The process of one contender of the NATS benchmark (`--serve <name> <consumers>`): measures throughput or latency
 * on request, with the settings sent along. Forked by nats-bench.ts; not imported.
 */
export interface NatsRequest {
  readonly kind: 'throughput' | 'latency';
  readonly settings: BenchSettings;
}

const [mode, name, consumers] = process.argv.slice(2);
const contender =
  mode === '--serve' && name !== undefined
    ? natsContender(name, { consumers: Number(consumers) })
    : undefined;
if (contender !== undefined) {
  serveRequests((request) => {
    const { kind, settings } = request as NatsRequest;
    return kind === 'throughput'
      ? measureThroughput(contender, settings)
      : measureLatency(contender, settings);
  });
} else if (process.send !== undefined) {
  serveRequests(
    () => Promise.reject(new Error('not serving')),
    `cannot serve "${process.argv.slice(2).join(' ')}"`,
  );
}

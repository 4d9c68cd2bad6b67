import type { Contender } from './contender';
import { collectGarbage } from './gc';
import { Progress, watchPublish } from './progress';
import type { BenchSettings } from './settings';
import { percentile } from './stats';
import { checkCount } from './throughput';

/** Latency from publish start to handler entry, in microseconds. */
export interface LatencyResult {
  readonly p50Us: number;
  readonly p99Us: number;
}

/**
 * Publishes at a steady rate for `settings.latencyDurationMs`: on every `setImmediate` turn (or every
 * millisecond, with `latencyPacing: 'timer'`) it publishes the events that have come due, stamping each one's
 * start just before its `publish`. The handler's probe stamps handler entry; the difference is the event's latency.
 */
export async function measureLatency(contender: Contender, settings: BenchSettings): Promise<LatencyResult> {
  const total = Math.round((settings.latencyRatePerSec * settings.latencyDurationMs) / 1_000);
  const startedAt = new Float64Array(total);
  const latencyMs = new Float64Array(total).fill(Number.NaN);
  const progress = new Progress(settings.stallTimeoutMs);
  const target = await contender.setup((id) => {
    latencyMs[id] = performance.now() - (startedAt[id] as number);
    progress.probe(id);
  });
  collectGarbage();
  const schedule =
    settings.latencyPacing === 'timer'
      ? (tick: () => void) => void setTimeout(tick, 1)
      : (tick: () => void) => void setImmediate(tick);
  try {
    await new Promise<void>((resolve) => {
      const origin = performance.now();
      let next = 0;
      const tick = (): void => {
        const due = Math.min(
          total,
          Math.floor(((performance.now() - origin) * settings.latencyRatePerSec) / 1_000) + 1,
        );
        while (next < due) {
          startedAt[next] = performance.now();
          watchPublish(target.publish(next), progress.fail);
          next += 1;
        }
        if (next < total) schedule(tick);
        else resolve();
      };
      schedule(tick);
    });
    await progress.reach(total);
    progress.check();
    checkCount(contender.name, target.handled(), total);
  } finally {
    await target.close();
  }
  const sortedUs = latencyMs.map((ms) => ms * 1_000).sort();
  return {
    p50Us: percentile(sortedUs, 50),
    p99Us: percentile(sortedUs, 99),
  };
}

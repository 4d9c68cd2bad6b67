import type { Contender } from './contender';
import { collectGarbage } from './gc';
import { Progress, watchPublish } from './progress';
import type { BenchSettings } from './settings';

/**
 * Publishes `settings.events` events with at most `settings.window` published but not yet handled, and returns
 * events per second from the first publish until the last handler ran. A sync emitter handles each event inside
 * `publish`, so its window never fills; async contenders are topped up whenever half the window has drained.
 */
export async function measureThroughput(contender: Contender, settings: BenchSettings): Promise<number> {
  const { events, window } = settings;
  const progress = new Progress(settings.stallTimeoutMs);
  const target = await contender.setup(progress.probe);
  collectGarbage();
  const startedAt = performance.now();
  try {
    let next = 0;
    while (next < events) {
      while (next < events && next - progress.count < window)
        watchPublish(target.publish(next++), progress.fail);
      if (next - progress.count >= window) await progress.reach(next - window / 2);
    }
    await progress.reach(events);
    const elapsedMs = performance.now() - startedAt;
    progress.check();
    checkCount(contender.name, target.handled(), events);
    return (events / elapsedMs) * 1_000;
  } finally {
    await target.close();
  }
}

/** Fails when the handler's own counter disagrees with the number of events published. */
export function checkCount(name: string, handled: number, expected: number): void {
  if (handled !== expected)
    throw new Error(`${name}: the handler counted ${handled} events, expected ${expected}`);
}

import type { Logger, MetricsMiddleware } from '@relaybus/core';
import type { OutboxRelayStats } from './relay-stats';

/**
 * Options of {@link OutboxRelay.registerMetrics}.
 *
 * @example
 * ```ts
 * relay.registerMetrics(m, { intervalMs: 10_000 });
 * ```
 */
export interface RelayMetricsOptions {
  /**
   * How often the cached stats the gauges read are refreshed.
   * @defaultValue the relay's `statsIntervalMs` (5000)
   */
  intervalMs?: number;
  /**
   * Prepended to each gauge name (after the metrics middleware's own prefix): give instances of different relay
   * names in one registry their own, such as `'outbox_orders_'`.
   * @defaultValue 'outbox_'
   */
  prefix?: string;
  /**
   * Where a failed refresh is reported (the gauges keep the last values).
   * @defaultValue the relay's logger
   */
  logger?: Logger;
}

/**
 * Registers the relay gauges (`outbox_lag_events`, `outbox_lag_seconds`, `outbox_oldest_transaction_seconds`,
 * `outbox_parked_events`, `outbox_owned_partitions`, with the `outbox_` part replaceable by `prefix`) on a
 * metrics middleware. Gauges are read synchronously, so
 * they report stats cached by a timer. Returns a function that removes the gauges and stops the timer.
 *
 * @example
 * ```ts
 * const unregister = registerRelayMetrics(m, () => relay.stats(), { intervalMs: 5_000 });
 * ```
 */
export function registerRelayMetrics(
  metrics: MetricsMiddleware,
  read: () => Promise<OutboxRelayStats>,
  options: RelayMetricsOptions & { intervalMs: number },
): () => void {
  let last: OutboxRelayStats | undefined;
  let refreshing = false;
  const refresh = (): void => {
    if (refreshing) return;
    refreshing = true;
    read()
      .then((stats) => {
        last = stats;
      })
      .catch((error: unknown) => options.logger?.warn('outbox relay: refreshing metrics failed', { error }))
      .finally(() => {
        refreshing = false;
      });
  };
  const value =
    (pick: (stats: OutboxRelayStats) => number): (() => number) =>
    () => {
      if (last === undefined) throw new Error('no stats yet');
      return pick(last);
    };
  const prefix = options.prefix ?? 'outbox_';
  const removers = [
    metrics.registerGauge(
      `${prefix}lag_events`,
      'Events the relay has not published yet.',
      value((s) => s.eventsBehind),
    ),
    metrics.registerGauge(
      `${prefix}lag_seconds`,
      'Age of the oldest event the relay has not published yet, in seconds.',
      value((s) => s.secondsBehind),
    ),
    metrics.registerGauge(
      `${prefix}oldest_transaction_seconds`,
      'Age of the oldest open writing transaction, which holds back delivery, in seconds.',
      value((s) => s.oldestTransaction?.ageSeconds ?? 0),
    ),
    metrics.registerGauge(
      `${prefix}parked_events`,
      'Events parked as poison.',
      value((s) => s.parked),
    ),
    metrics.registerGauge(
      `${prefix}owned_partitions`,
      'Partitions this relay instance holds.',
      value((s) => s.ownedPartitions.length),
    ),
  ];
  refresh();
  const timer = setInterval(refresh, options.intervalMs);
  timer.unref?.();
  return () => {
    clearInterval(timer);
    for (const remove of removers) remove();
  };
}

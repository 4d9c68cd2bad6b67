import { fmt, type Goal, ms, ratio, section } from '../jobs/report';
import { rounds } from '../lib/measure';
import { median } from '../lib/stats';
import { RAW_NAIVE, RELAYBUS, SOCKET_IO, type WsContender } from './contenders';
import { atMost, GOALS_SKIPPED } from './goals';
import { type LatencyFigures, withRigs } from './rig';
import { WS_SETTINGS } from './settings';

const milliseconds = (us: number): string => `${ms(us)} ms`;

/** Send → receive latency at a steady broadcast rate. */
export async function latencyPart(
  contenders: ReadonlyArray<WsContender>,
  log: (message: string) => void,
): Promise<string> {
  const { clients, ratePerSec, durationMs, runs } = WS_SETTINGS.latency;
  const broadcasts = (ratePerSec * durationMs) / 1_000;
  log('ws/latency: connecting');
  const results = await withRigs(contenders, clients, async (rigs) => {
    log('ws/latency: warming up');
    for (const rig of rigs) await rig.latency(broadcasts, ratePerSec);
    const figures = await rounds(
      rigs,
      runs,
      (rig) => rig.latency(broadcasts, ratePerSec),
      (round) => log(`ws/latency: round ${round} of ${runs}`),
    );
    return new Map(
      rigs.map((rig, index): [string, LatencyFigures] => {
        const runsOf = figures[index] as LatencyFigures[];
        return [
          rig.contender.name,
          {
            p50Us: median(runsOf.map((run) => run.p50Us)),
            p99Us: median(runsOf.map((run) => run.p99Us)),
            deliveriesPerSec: median(runsOf.map((run) => run.deliveriesPerSec)),
          },
        ];
      }),
    );
  });
  const raw = results.get(RAW_NAIVE);
  const socketIo = results.get(SOCKET_IO);
  const relaybus = results.get(RELAYBUS);
  const rows = contenders.flatMap(({ name }) => {
    const row = results.get(name);
    if (row === undefined) return [];
    return [
      [
        name,
        fmt(row.deliveriesPerSec),
        ms(row.p50Us),
        ms(row.p99Us),
        raw === undefined ? 'n/a' : ratio(row.p99Us, raw.p99Us),
        socketIo === undefined ? 'n/a' : ratio(row.p99Us, socketIo.p99Us),
      ],
    ];
  });
  const goals: Goal[] =
    relaybus === undefined || raw === undefined || socketIo === undefined
      ? []
      : [
          atMost('p99 ≤ 1.2x raw ws', relaybus.p99Us, raw.p99Us, 1.2, milliseconds),
          atMost("p99 ≤ 0.5x Socket.IO's", relaybus.p99Us, socketIo.p99Us, 0.5, milliseconds),
        ];
  return section(
    `WebSocket delivery latency at a steady ${fmt(ratePerSec)} broadcasts/s to ${fmt(clients)} clients`,
    [
      'Time from just before the broadcast (the timestamp in the payload) to the client handling the parsed frame, ' +
        'for every delivery; both ends read `performance.timeOrigin + performance.now()` in their own process on the ' +
        'same machine. The server sends the broadcasts due every millisecond (a 1 ms timer), without acks. The last ' +
        'client of a broadcast waits for the server to write to all the others first, so this includes the fan-out. ' +
        'Delivered/s is the deliveries over the time from the first broadcast to the last delivery: a figure well ' +
        'below the offered rate means server or clients could not keep up, a backlog grew through the run, and its ' +
        'percentiles measure that backlog (they grow with the run length) rather than the latency of a delivery.',
      `Settings: ${fmt(ratePerSec)} broadcasts/s for ${durationMs} ms per run (${fmt(ratePerSec * clients)} ` +
        `deliveries/s), one load-generator process · median p50 and median p99 of R = ${runs} interleaved runs after 1 warm-up.`,
      ...(relaybus === undefined ? [GOALS_SKIPPED] : []),
    ],
    ['contender', 'delivered/s', 'p50 ms', 'p99 ms', 'p99 vs raw ws', 'p99 vs Socket.IO'],
    rows,
    goals,
  );
}

import { fmt, type Goal, ratio, section, spread } from '../jobs/report';
import { rounds } from '../lib/measure';
import { median } from '../lib/stats';
import { RAW_NAIVE, RAW_PREFRAMED, RELAYBUS, type WsContender } from './contenders';
import { atMost, GOALS_SKIPPED } from './goals';
import type { MemorySample } from './requests';
import { LoadPool, memoryPerConnection, SOCKETS_PER_LOAD_PROCESS } from './rig';
import { WS_SETTINGS } from './settings';

const kb = (bytes: number): string => (bytes / 1_024).toFixed(1);
const kbUnit = (bytes: number): string => `${kb(bytes)} KB`;

/** Server memory per idle connection; the pre-framed raw contender has the same server as the naive one. */
export async function memoryPart(
  contenders: ReadonlyArray<WsContender>,
  log: (message: string) => void,
): Promise<string> {
  const { clients, warmClients, settleMs, runs } = WS_SETTINGS.memory;
  const measured = contenders.filter(({ name }) => name !== RAW_PREFRAMED);
  const load = await LoadPool.start('ws/memory', clients + warmClients);
  let results: MemorySample[][];
  try {
    results = await rounds(
      measured,
      runs,
      (contender) => {
        log(`ws/memory: ${contender.name}, ${fmt(clients)} connections`);
        return memoryPerConnection(contender, load, { clients, warmClients, settleMs });
      },
      (round) => log(`ws/memory: round ${round} of ${runs}`),
    );
  } finally {
    await load.close();
  }
  const perConnection = new Map(
    measured.map(({ name }, index) => {
      const samples = results[index] as MemorySample[];
      const rss = samples.map((sample) => sample.rssBytes);
      return [name, { rss, rssBytes: median(rss), heapBytes: median(samples.map((s) => s.heapUsedBytes)) }];
    }),
  );
  const raw = perConnection.get(RAW_NAIVE);
  const relaybus = perConnection.get(RELAYBUS);
  const rows = measured.map(({ name }) => {
    const row = perConnection.get(name);
    if (row === undefined) return [name, 'n/a', '', 'n/a', '', ''];
    return [
      name === RAW_NAIVE ? 'raw ws' : name,
      kb(row.rssBytes),
      raw === undefined ? 'n/a' : ratio(row.rssBytes, raw.rssBytes),
      kb(row.heapBytes),
      raw === undefined ? 'n/a' : ratio(row.heapBytes, raw.heapBytes),
      spread(row.rss),
    ];
  });
  const goals: Goal[] =
    relaybus === undefined || raw === undefined
      ? []
      : [atMost('RSS per connection ≤ 1.3x raw ws', relaybus.rssBytes, raw.rssBytes, 1.3, kbUnit)];
  return section(
    `WebSocket server memory per idle connection, ${fmt(clients)} connections`,
    [
      `A fresh server process per run: ${warmClients} clients connect first (so one-time costs are paid), then ` +
        `${fmt(clients)} more; after ${fmt(settleMs)} ms idle, the difference in the server's RSS and used heap, each ` +
        'measured after two full GCs (`--expose-gc`), divided by the connections. relaybus clients hold one ' +
        'subscription each (`#`). The pre-framed raw contender has the same server as the naive one, so it is not ' +
        `measured apart. The clients are spread over load-generator processes of at most ${fmt(SOCKETS_PER_LOAD_PROCESS)} sockets.`,
      `Settings: R = ${runs} interleaved runs (median shown; no warm-up: every run starts a new server).`,
      ...(relaybus === undefined ? [GOALS_SKIPPED] : []),
    ],
    ['contender', 'RSS KB/connection', 'vs raw ws', 'heap KB/connection', 'vs raw ws', 'RSS spread'],
    rows,
    goals,
  );
}

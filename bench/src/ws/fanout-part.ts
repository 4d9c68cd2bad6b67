import { fmt, type Goal, ratio, section, spread } from '../jobs/report';
import { rounds } from '../lib/measure';
import { median } from '../lib/stats';
import { RAW_NAIVE, RAW_PREFRAMED, RELAYBUS, type WsContender } from './contenders';
import { atLeast, atMost, GOALS_SKIPPED } from './goals';
import { type FanoutFigures, withRigs } from './rig';
import { roundsNote, WS_SETTINGS } from './settings';

type Log = (message: string) => void;

/** Medians of one contender's runs at one level. */
interface FanoutRow {
  readonly rate: number;
  readonly cpu: number;
  readonly rates: number[];
}

async function measureLevel(
  contenders: ReadonlyArray<WsContender>,
  level: (typeof WS_SETTINGS.fanout.levels)[number],
  log: Log,
): Promise<Map<string, FanoutRow>> {
  const { runs } = WS_SETTINGS.fanout;
  const { clients, broadcasts, window } = level;
  const id = `ws/fanout, ${fmt(clients)} clients`;
  log(`${id}: connecting`);
  return withRigs(contenders, clients, async (rigs) => {
    log(`${id}: warming up`);
    for (const rig of rigs) await rig.fanout(broadcasts, window);
    const results = await rounds(
      rigs,
      runs,
      (rig) => rig.fanout(broadcasts, window),
      (round) => log(`${id}: round ${round} of ${runs}`),
    );
    return new Map(
      rigs.map((rig, index) => {
        const figures = results[index] as FanoutFigures[];
        const rates = figures.map((run) => run.deliveriesPerSec);
        return [
          rig.contender.name,
          { rate: median(rates), cpu: median(figures.map((run) => run.cpuUsPerDelivery)), rates },
        ];
      }),
    );
  });
}

const perSec = (value: number): string => `${fmt(value)}/s`;
const us = (value: number): string => `${value.toFixed(2)} µs`;

/** Throughput and server CPU per delivery at each level of clients. */
export async function fanoutPart(contenders: ReadonlyArray<WsContender>, log: Log): Promise<string> {
  const { levels, runs } = WS_SETTINGS.fanout;
  const rows: string[][] = [];
  const goals: Goal[] = [];
  for (const level of levels) {
    const results = await measureLevel(contenders, level, log);
    const raw = results.get(RAW_NAIVE);
    const preframed = results.get(RAW_PREFRAMED);
    for (const { name } of contenders) {
      const row = results.get(name);
      if (row === undefined) continue;
      rows.push([
        name,
        fmt(level.clients),
        fmt(row.rate),
        raw === undefined ? 'n/a' : ratio(row.rate, raw.rate),
        row.cpu.toFixed(2),
        preframed === undefined ? 'n/a' : ratio(row.cpu, preframed.cpu),
        spread(row.rates),
      ]);
    }
    const relaybus = results.get(RELAYBUS);
    if (relaybus === undefined || raw === undefined || preframed === undefined) continue;
    const at = `at ${fmt(level.clients)} clients`;
    goals.push(
      atLeast(`throughput ≥ 90% of raw ws ${at}`, relaybus.rate, raw.rate, 0.9, perSec),
      atMost(`server CPU per delivery ≤ 1.1x pre-framed raw ws ${at}`, relaybus.cpu, preframed.cpu, 1.1, us),
    );
  }
  return section(
    'WebSocket fan-out throughput',
    [
      'The server broadcasts as fast as the clients take the events: one broadcast per event-loop turn, with at most ' +
        'a window of broadcasts not yet received by every client (the load generator acks over a TCP side channel). ' +
        'Deliveries/s: broadcasts × clients, counted as received and parsed by the load generator, over the time from ' +
        "the first broadcast to the last delivery. Server CPU: `process.cpuUsage()` of the server process over the run (user + system, the side channel's few reads included) divided by the deliveries.",
      `Settings: ${levels.map((l) => `${fmt(l.broadcasts)} broadcasts to ${fmt(l.clients)} clients (window ${l.window})`).join(', ')}; ` +
        `one load-generator process · ${roundsNote(runs)}.`,
      ...(contenders.some(({ name }) => name === RELAYBUS) ? [] : [GOALS_SKIPPED]),
    ],
    [
      'contender',
      'clients',
      'deliveries/s',
      'vs raw ws',
      'server CPU µs/delivery',
      'vs pre-framed',
      'spread',
    ],
    rows,
    goals,
  );
}

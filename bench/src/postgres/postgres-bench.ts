import { type Envelope, memoryTransport, replay, type Transport } from '@relaybus/core';
import {
  createOutboxRelay,
  migrate,
  type OutboxRelayOptions,
  type PostgresEventStore,
  postgresEventStore,
} from '@relaybus/outbox-pg';
import { redisTransport } from '@relaybus/transport-redis';
import pg from 'pg';
import { BENCH_EVENT_TYPE, BenchEvent, payload } from '../core/bench-event';
import { collectGarbage } from '../lib/gc';
import { percentile } from '../lib/stats';
import { connect, deleteKeys, uniquePrefix } from '../redis/connection';
import { type FreshReplayFigures, freshReplay } from './fresh-replay';
import {
  type RawRow,
  rawInsertMany,
  rawInsertOne,
  rawInsertOneInTransaction,
  rawSkipLockedWorker,
  rawTableDdl,
} from './raw';

const URL = process.env['PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const CLIENTS = 8;
const APPEND_MS = 2_500;
const WARMUP_MS = 300;
const BATCH = 100;
const RELAY_EVENTS = 50_000;
const LATENCY_RATE = 500;
const LATENCY_MS = 5_000;
const STREAMS_PER_CLIENT = 100;

type Log = (message: string) => void;

/** One line of the table: relaybus against its raw counterpart (when there is one). */
interface Row {
  readonly measure: string;
  readonly relaybus: string;
  readonly raw: string;
  readonly ratio: string;
  readonly settings: string;
}

interface Goal {
  readonly text: string;
  readonly met: boolean;
  readonly detail: string;
}

const fmt = (value: number): string => Math.round(value).toLocaleString('en-US');
const ms = (value: number): string => `${value.toFixed(1)} ms`;
const pct = (value: number): string => `${Math.round(value * 100)}%`;

function makePool(max: number): pg.Pool {
  return new pg.Pool({ connectionString: URL, max });
}

function rawRow(event: Envelope, stream: string): RawRow {
  return { eventId: event.id, stream, type: event.type, json: JSON.stringify(event) };
}

/** Runs `op` on `clients` concurrent loops for `durationMs`; returns events per second. */
async function timed(
  clients: number,
  durationMs: number,
  op: (client: number, i: number) => Promise<number>,
): Promise<number> {
  collectGarbage();
  let events = 0;
  const started = performance.now();
  const deadline = started + durationMs;
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      for (let i = 0; performance.now() < deadline; i++) {
        // Not `events += await op()`: that reads `events` before the await and loses the other loops' counts.
        const done = await op(client, i);
        events += done;
      }
    }),
  );
  return events / ((performance.now() - started) / 1_000);
}

/** A warm-up, then the measured run. */
async function throughput(op: (client: number, i: number) => Promise<number>): Promise<number> {
  await timed(CLIENTS, WARMUP_MS, op);
  return timed(CLIENTS, APPEND_MS, op);
}

let sequence = 0;
const streamOf = (client: number, i: number): string => `s-${client}-${i % STREAMS_PER_CLIENT}`;
const nextEvent = (): Envelope => BenchEvent.create(payload(sequence++));
const nextBatch = (): Envelope[] => Array.from({ length: BATCH }, nextEvent);

interface AppendFigures {
  readonly singles: number;
  readonly singlesNoWait: number;
  readonly singlesNoNotify: number;
  readonly singlesLean: number;
  readonly batchesLean: number;
  readonly rawSingles: number;
  readonly rawSinglesTx: number;
  readonly batches: number;
  readonly batchesNoWait: number;
  readonly rawBatches: number;
}

async function appendBench(schema: string, log: Log): Promise<AppendFigures> {
  const pool = makePool(CLIENTS);
  try {
    await migrate(pool, { schema });
    await pool.query(rawTableDdl(`"${schema}".raw_singles`));
    await pool.query(rawTableDdl(`"${schema}".raw_singles_tx`));
    await pool.query(rawTableDdl(`"${schema}".raw_batches`));
    const store = postgresEventStore({ pool, schema });
    const noWait = postgresEventStore({ pool, schema, visibilityWaitMs: 0 });
    const noNotify = postgresEventStore({ pool, schema, notify: false });
    const lean = postgresEventStore({ pool, schema, notify: false, visibilityWaitMs: 0 });
    log('postgres/append: 1 event per transaction');
    const singles = await throughput(async (c, i) => {
      await store.append(streamOf(c, i), [nextEvent()]);
      return 1;
    });
    const rawSingles = await throughput(async (c, i) => {
      await rawInsertOne(pool, `"${schema}".raw_singles`, rawRow(nextEvent(), streamOf(c, i)));
      return 1;
    });
    const singlesNoWait = await throughput(async (c, i) => {
      await noWait.append(streamOf(c, i), [nextEvent()]);
      return 1;
    });
    const singlesNoNotify = await throughput(async (c, i) => {
      await noNotify.append(streamOf(c, i), [nextEvent()]);
      return 1;
    });
    const singlesLean = await throughput(async (c, i) => {
      await lean.append(streamOf(c, i), [nextEvent()]);
      return 1;
    });
    const rawSinglesTx = await throughput(async (c, i) => {
      await rawInsertOneInTransaction(
        pool,
        `"${schema}".raw_singles_tx`,
        rawRow(nextEvent(), streamOf(c, i)),
      );
      return 1;
    });
    log('postgres/append: batches of 100');
    const batches = await throughput(async (c, i) => {
      await store.append(streamOf(c, i), nextBatch());
      return BATCH;
    });
    const rawBatches = await throughput(async (c, i) => {
      const stream = streamOf(c, i);
      await rawInsertMany(
        pool,
        `"${schema}".raw_batches`,
        nextBatch().map((event) => rawRow(event, stream)),
      );
      return BATCH;
    });
    const batchesNoWait = await throughput(async (c, i) => {
      await noWait.append(streamOf(c, i), nextBatch());
      return BATCH;
    });
    const batchesLean = await throughput(async (c, i) => {
      await lean.append(streamOf(c, i), nextBatch());
      return BATCH;
    });
    for (const s of [store, noWait, noNotify, lean]) await s.close();
    return {
      singles,
      singlesNoWait,
      singlesNoNotify,
      singlesLean,
      batchesLean,
      rawSingles,
      rawSinglesTx,
      batches,
      batchesNoWait,
      rawBatches,
    };
  } finally {
    await pool.end();
  }
}

/** Where a relay publishes: the memory transport, or Redis (a publishing and a consuming connection). */
type SinkKind = 'memory' | 'redis';

interface Sink {
  /** The transport the relay publishes to. */
  readonly transport: Transport;
  /** Resolves once `expected` deliveries were counted. */
  readonly all: Promise<void>;
  readonly count: () => number;
  close(): Promise<void>;
}

/** A transport whose group subscriber counts deliveries and resolves `all` at `expected`. */
async function countingSink(
  kind: SinkKind,
  expected: number,
  onDelivered?: (id: string) => void,
): Promise<Sink> {
  const prefix = uniquePrefix('outbox');
  const clients = kind === 'redis' ? [connect(), connect()] : [];
  const [publishing, consuming] = clients;
  const transport =
    publishing === undefined ? memoryTransport() : redisTransport({ redis: publishing, prefix });
  const consumer = consuming === undefined ? transport : redisTransport({ redis: consuming, prefix });
  let count = 0;
  let resolve = (): void => {};
  const all = new Promise<void>((r) => {
    resolve = r;
  });
  await consumer.subscribe({ topics: [BENCH_EVENT_TYPE], group: 'count', concurrency: 1_000 }, (delivery) => {
    onDelivered?.(delivery.message.id);
    count += 1;
    delivery.ack();
    if (count === expected) resolve();
  });
  await Promise.all(clients.map((redis) => redis.ping()));
  return {
    transport,
    all,
    count: () => count,
    async close() {
      await transport.close();
      if (consumer !== transport) await consumer.close();
      for (const redis of clients) redis.disconnect();
      if (kind === 'redis') await deleteKeys(prefix);
    },
  };
}

async function withTimeout(promise: Promise<void>, timeoutMs: number, what: string): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

type RelayTuning = Pick<OutboxRelayOptions, 'batchSize'>;

/** Forwards the whole log with `instances` relays of one (fresh) name; returns events per second. */
async function relayRun(
  pool: pg.Pool,
  schema: string,
  name: string,
  tuning: RelayTuning,
  instances: number,
  sinkKind: SinkKind,
): Promise<number> {
  collectGarbage();
  const sink = await countingSink(sinkKind, RELAY_EVENTS);
  const { transport, all, count } = sink;
  const relays = Array.from({ length: instances }, () =>
    createOutboxRelay({ pool, schema, transport, name, ...tuning }),
  );
  const started = performance.now();
  await Promise.all(relays.map((relay) => relay.start()));
  await withTimeout(all, 60_000, `relay ${name} (${count()} delivered)`);
  const perSecond = RELAY_EVENTS / ((performance.now() - started) / 1_000);
  await Promise.all(relays.map((relay) => relay.close()));
  await sink.close();
  return perSecond;
}

/** Fills a fresh hand-rolled outbox table with the same rows, then drains it with `workers` SKIP LOCKED loops. */
async function rawRelayRun(
  pool: pg.Pool,
  schema: string,
  table: string,
  batchSize: number,
  workers: number,
  sinkKind: SinkKind,
  keyset = false,
): Promise<number> {
  const qualified = `"${schema}".${table}`;
  await pool.query(rawTableDdl(qualified));
  await pool.query(
    `INSERT INTO ${qualified} (event_id, stream, type, payload)
     SELECT event_id, stream, type, envelope FROM "${schema}".events ORDER BY epoch, tx_id, id`,
  );
  await pool.query(`VACUUM ANALYZE ${qualified}`);
  collectGarbage();
  const sink = await countingSink(sinkKind, RELAY_EVENTS);
  const { transport, all, count } = sink;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: workers }, () => rawSkipLockedWorker(pool, qualified, batchSize, transport, keyset)),
  );
  await withTimeout(all, 60_000, `raw relay (${count()} delivered)`);
  const perSecond = RELAY_EVENTS / ((performance.now() - started) / 1_000);
  await sink.close();
  await pool.query(`DROP TABLE ${qualified}`);
  return perSecond;
}

interface RelayResult {
  readonly sink: SinkKind;
  readonly contender: 'relaybus' | 'raw';
  readonly settings: string;
  readonly perSecond: number;
}

interface RelayFigures {
  readonly runs: ReadonlyArray<RelayResult>;
  readonly replay: ReadonlyArray<{ readonly settings: string; readonly perSecond: number }>;
}

const RELAY_VARIANTS: ReadonlyArray<{
  readonly settings: string;
  readonly tuning: RelayTuning;
  readonly instances: number;
  readonly sinks: ReadonlyArray<SinkKind>;
}> = [
  { settings: 'defaults, 1 instance', tuning: {}, instances: 1, sinks: ['memory', 'redis'] },
  { settings: 'defaults, 4 instances', tuning: {}, instances: 4, sinks: ['memory', 'redis'] },
  { settings: 'batchSize 1000, 1 instance', tuning: { batchSize: 1_000 }, instances: 1, sinks: ['memory'] },
];

const RAW_VARIANTS: ReadonlyArray<{
  readonly settings: string;
  readonly workers: number;
  readonly keyset: boolean;
  readonly sinks: ReadonlyArray<SinkKind>;
}> = [
  { settings: 'batch 100, 1 worker, ORDER BY id', workers: 1, keyset: false, sinks: ['memory', 'redis'] },
  {
    settings: 'batch 100, 1 worker, keyset id > last',
    workers: 1,
    keyset: true,
    sinks: ['memory'],
  },
  { settings: 'batch 100, 4 workers, ORDER BY id', workers: 4, keyset: false, sinks: ['memory', 'redis'] },
];

async function prefill(pool: pg.Pool, schema: string): Promise<PostgresEventStore> {
  await migrate(pool, { schema });
  const store = postgresEventStore({ pool, schema, visibilityWaitMs: 0 });
  let chunk = 0;
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, c) => {
      while (chunk < RELAY_EVENTS / 1_000) {
        chunk += 1;
        await store.append(`r-${c}-${chunk}`, Array.from({ length: 1_000 }, nextEvent));
      }
    }),
  );
  await pool.query(`VACUUM ANALYZE "${schema}".events`);
  return store;
}

async function relayBench(schema: string, log: Log, parts: ReadonlySet<PostgresPart>): Promise<RelayFigures> {
  const pool = makePool(CLIENTS);
  try {
    log(`postgres: pre-filling ${fmt(RELAY_EVENTS)} events`);
    const store = await prefill(pool, schema);
    const runs: RelayResult[] = [];
    if (parts.has('relay')) {
      let name = 0;
      for (const sink of ['memory', 'redis'] as const) {
        log(`postgres/relay → ${sink}`);
        for (const variant of RELAY_VARIANTS.filter((v) => v.sinks.includes(sink))) {
          name += 1;
          const perSecond = await relayRun(
            pool,
            schema,
            `bench_${name}`,
            variant.tuning,
            variant.instances,
            sink,
          );
          runs.push({ sink, contender: 'relaybus', settings: variant.settings, perSecond });
        }
        for (const variant of RAW_VARIANTS.filter((v) => v.sinks.includes(sink))) {
          name += 1;
          const table = `raw_outbox_${name}`;
          const perSecond = await rawRelayRun(
            pool,
            schema,
            table,
            100,
            variant.workers,
            sink,
            variant.keyset,
          );
          runs.push({ sink, contender: 'raw', settings: variant.settings, perSecond });
        }
      }
    }
    const replays: { settings: string; perSecond: number }[] = [];
    if (parts.has('replay')) {
      log('postgres/replay');
      for (const batchSize of [1_000, 5_000]) {
        collectGarbage();
        const started = performance.now();
        const result = await replay(store, { batchSize, handle: () => {} });
        if (result.events !== RELAY_EVENTS) throw new Error(`replay saw ${result.events} events`);
        replays.push({
          settings: `batchSize ${fmt(batchSize)}${batchSize === 1_000 ? ' (default)' : ''}`,
          perSecond: result.events / ((performance.now() - started) / 1_000),
        });
      }
    }
    await store.close();
    return { runs, replay: replays };
  } finally {
    await pool.end();
  }
}

interface LatencyFigures {
  readonly p50: number;
  readonly p99: number;
  readonly resolvedP50: number;
  readonly resolvedP99: number;
  readonly appendP50: number;
  readonly appendP99: number;
  readonly count: number;
}

async function latencyRun(schema: string, visibilityWaitMs: number | undefined): Promise<LatencyFigures> {
  const pool = makePool(CLIENTS + 2);
  try {
    await migrate(pool, { schema });
    const store = postgresEventStore(
      visibilityWaitMs === undefined ? { pool, schema } : { pool, schema, visibilityWaitMs },
    );
    const total = Math.round((LATENCY_RATE * LATENCY_MS) / 1_000);
    const sentAt = new Map<string, number>();
    const resolvedAt = new Map<string, number>();
    const fromStart: number[] = [];
    const fromResolved: number[] = [];
    const deliveredAt = new Map<string, number>();
    const sink = await countingSink('memory', total, (id) => {
      deliveredAt.set(id, performance.now());
    });
    const { transport, all } = sink;
    const relay = createOutboxRelay({ pool, schema, transport, name: 'latency' });
    await relay.start();
    const appends: Promise<void>[] = [];
    const started = performance.now();
    for (let sent = 0; sent < total; ) {
      const due = Math.min(total, Math.floor(((performance.now() - started) * LATENCY_RATE) / 1_000) + 1);
      while (sent < due) {
        const event = nextEvent();
        sentAt.set(event.id, performance.now());
        appends.push(
          store.append(`lat-${sent % 100}`, [event]).then(() => {
            resolvedAt.set(event.id, performance.now());
          }),
        );
        sent += 1;
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await Promise.all(appends);
    await withTimeout(all, 15_000, 'latency run');
    const appendTimes: number[] = [];
    for (const [id, at] of deliveredAt) {
      const sent = sentAt.get(id) as number;
      const resolved = resolvedAt.get(id) as number;
      fromStart.push(at - sent);
      fromResolved.push(at - resolved);
      appendTimes.push(resolved - sent);
    }
    await relay.close();
    await sink.close();
    await store.close();
    fromStart.sort((a, b) => a - b);
    fromResolved.sort((a, b) => a - b);
    appendTimes.sort((a, b) => a - b);
    return {
      p50: percentile(fromStart, 50),
      p99: percentile(fromStart, 99),
      resolvedP50: percentile(fromResolved, 50),
      resolvedP99: percentile(fromResolved, 99),
      appendP50: percentile(appendTimes, 50),
      appendP99: percentile(appendTimes, 99),
      count: fromStart.length,
    };
  } finally {
    await pool.end();
  }
}

async function dropSchemas(schemas: ReadonlyArray<string>): Promise<void> {
  const pool = makePool(1);
  try {
    for (const schema of schemas) await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await pool.end();
  }
}

/** The parts of the Postgres benchmark, selectable as `postgres/<part>`. */
export const POSTGRES_PARTS = ['append', 'relay', 'replay', 'latency'] as const;

/** One part of the Postgres benchmark. */
export type PostgresPart = (typeof POSTGRES_PARTS)[number];

/** Runs the Postgres benchmarks (the given parts) on fresh schemas, dropped at the end; returns the markdown report. */
export async function runPostgresBench(log: Log, parts: ReadonlySet<PostgresPart>): Promise<string> {
  const base = `bench_pg_${process.pid}_${Date.now().toString(36)}`;
  const schemas = {
    append: `${base}_a`,
    relay: `${base}_r`,
    fresh: `${base}_f`,
    latency: `${base}_l`,
    latency0: `${base}_l0`,
  };
  try {
    const append = parts.has('append') ? await appendBench(schemas.append, log) : undefined;
    const relay =
      parts.has('relay') || parts.has('replay') ? await relayBench(schemas.relay, log, parts) : undefined;
    const fresh = parts.has('replay') ? await freshReplay(URL, schemas.fresh, log) : undefined;
    let latency: readonly [LatencyFigures, LatencyFigures] | undefined;
    if (parts.has('latency')) {
      log(`postgres/latency: ${LATENCY_RATE} events/s for ${LATENCY_MS / 1_000} s`);
      latency = [await latencyRun(schemas.latency, undefined), await latencyRun(schemas.latency0, 0)];
    }
    return report(append, relay, latency, fresh);
  } finally {
    await dropSchemas(Object.values(schemas));
  }
}

function appendRows(append: AppendFigures): Row[] {
  const single = (
    relaybus: number,
    settings: string,
    raw = append.rawSingles,
    rawWhat = 'autocommit INSERT',
  ): Row => ({
    measure: 'append, 1 event/tx, 8 clients (events/s)',
    relaybus: fmt(relaybus),
    raw: fmt(raw),
    ratio: pct(relaybus / raw),
    settings: `${settings}; raw: ${rawWhat}`,
  });
  const batch = (relaybus: number, settings: string): Row => ({
    measure: `append, ${BATCH} events/tx, 8 clients (events/s)`,
    relaybus: fmt(relaybus),
    raw: fmt(append.rawBatches),
    ratio: pct(relaybus / append.rawBatches),
    settings: `${settings}; raw: ${BATCH}-row INSERT`,
  });
  return [
    single(append.singles, 'store defaults'),
    single(append.singlesNoWait, 'visibilityWaitMs 0'),
    single(append.singlesNoNotify, 'notify false'),
    single(append.singlesLean, 'notify false, visibilityWaitMs 0'),
    single(
      append.singlesLean,
      'notify false, visibilityWaitMs 0',
      append.rawSinglesTx,
      'BEGIN; INSERT; COMMIT (3 round trips)',
    ),
    batch(append.batches, 'store defaults'),
    batch(append.batchesNoWait, 'visibilityWaitMs 0'),
    batch(append.batchesLean, 'notify false, visibilityWaitMs 0'),
  ];
}

function appendGoals(append: AppendFigures): Goal[] {
  return [
    {
      text: 'append ≥ 80% of raw INSERT (1 event/tx)',
      met: append.singles >= 0.8 * append.rawSingles,
      detail: `defaults ${pct(append.singles / append.rawSingles)}; notify false, visibilityWaitMs 0: ${pct(append.singlesLean / append.rawSingles)}`,
    },
    {
      text: `append ≥ 80% of raw INSERT (batches of ${BATCH})`,
      met: append.batches >= 0.8 * append.rawBatches,
      detail: `defaults ${pct(append.batches / append.rawBatches)}; notify false, visibilityWaitMs 0: ${pct(append.batchesLean / append.rawBatches)}`,
    },
  ];
}

function relayRows(relay: RelayFigures): Row[] {
  return relay.runs.map((run) => {
    const rawBest = bestRaw(relay, run.sink);
    const measure = `relay ${fmt(RELAY_EVENTS)} events → ${run.sink === 'memory' ? 'memoryTransport' : 'Redis'} (events/s)`;
    return run.contender === 'relaybus'
      ? {
          measure,
          relaybus: fmt(run.perSecond),
          raw: fmt(rawBest),
          ratio: pct(run.perSecond / rawBest),
          settings: `${run.settings}; raw: the fastest SKIP LOCKED loop`,
        }
      : {
          measure,
          relaybus: '',
          raw: fmt(run.perSecond),
          ratio: '',
          settings: `raw SKIP LOCKED + DELETE, ${run.settings}`,
        };
  });
}

function bestRaw(relay: RelayFigures, sink: SinkKind): number {
  return Math.max(
    ...relay.runs.filter((r) => r.sink === sink && r.contender === 'raw').map((r) => r.perSecond),
  );
}

function relayGoals(relay: RelayFigures): Goal[] {
  return (['memory', 'redis'] as const).flatMap((sink) => {
    const defaults = relay.runs.find((r) => r.sink === sink && r.contender === 'relaybus');
    if (defaults === undefined) return [];
    const rawBest = bestRaw(relay, sink);
    return [
      {
        text: `relay → ${sink} ≥ 50% of the raw SKIP LOCKED loop and ≥ 20,000 events/s`,
        met: defaults.perSecond >= 0.5 * rawBest && defaults.perSecond >= 20_000,
        detail: `${defaults.settings}: ${fmt(defaults.perSecond)}/s = ${pct(defaults.perSecond / rawBest)} of the fastest raw loop`,
      },
    ];
  });
}

function replayRows(relay: RelayFigures): Row[] {
  return relay.replay.map((r) => ({
    measure: `replay ${fmt(RELAY_EVENTS)} events, no-op handler (events/s)`,
    relaybus: fmt(r.perSecond),
    raw: '',
    ratio: '',
    settings: r.settings,
  }));
}

function freshReplayRow(fresh: FreshReplayFigures): Row {
  return {
    measure: `replay ${fmt(RELAY_EVENTS)} events, fresh table (no ANALYZE yet), no-op handler (events/s)`,
    relaybus: fmt(fresh.median),
    raw: '',
    ratio: '',
    settings: `batchSize 1,000 (default); loaded in 500 transactions of 100; median of ${fresh.runs.map(fmt).join(', ')}`,
  };
}

function replayGoals(relay: RelayFigures): Goal[] {
  const first = relay.replay[0];
  if (first === undefined) return [];
  return [
    {
      text: 'replay ≥ 100,000 events/s',
      met: first.perSecond >= 100_000,
      detail: `default batch ${fmt(first.perSecond)}/s; best ${fmt(Math.max(...relay.replay.map((r) => r.perSecond)))}/s`,
    },
  ];
}

function latencyRows(latency: readonly [LatencyFigures, LatencyFigures]): Row[] {
  const settings = ['store defaults', 'visibilityWaitMs 0'] as const;
  return latency.flatMap((l, index) => [
    {
      measure: `append start → delivered, ${LATENCY_RATE}/s for ${LATENCY_MS / 1_000} s, p50 / p99`,
      relaybus: `${ms(l.p50)} / ${ms(l.p99)}`,
      raw: '',
      ratio: '',
      settings: `${settings[index]}; relay defaults; ${fmt(l.count)} events`,
    },
    {
      measure: 'append resolved → delivered, p50 / p99',
      relaybus: `${ms(l.resolvedP50)} / ${ms(l.resolvedP99)}`,
      raw: '',
      ratio: '',
      settings: `${settings[index]}; the append call itself p50 ${ms(l.appendP50)} / p99 ${ms(l.appendP99)}`,
    },
  ]);
}

function latencyGoals([defaults]: readonly [LatencyFigures, LatencyFigures]): Goal[] {
  return [
    {
      text: 'commit → delivered p99 < 50 ms',
      met: defaults.resolvedP99 < 50,
      detail: `store defaults: p99 ${ms(defaults.resolvedP99)} from the append resolving (commit seen by the app), ${ms(defaults.p99)} from the append call`,
    },
  ];
}

function report(
  append: AppendFigures | undefined,
  relay: RelayFigures | undefined,
  latency: readonly [LatencyFigures, LatencyFigures] | undefined,
  fresh: FreshReplayFigures | undefined,
): string {
  const rows: Row[] = [
    ...(append === undefined ? [] : appendRows(append)),
    ...(relay === undefined ? [] : relayRows(relay)),
    ...(latency === undefined ? [] : latencyRows(latency)),
    ...(relay === undefined ? [] : replayRows(relay)),
    ...(fresh === undefined ? [] : [freshReplayRow(fresh)]),
  ];
  const goals: Goal[] = [
    ...(append === undefined ? [] : appendGoals(append)),
    ...(relay === undefined ? [] : [...relayGoals(relay), ...replayGoals(relay)]),
    ...(fresh === undefined
      ? []
      : [
          {
            text: 'replay of a fresh table ≥ 100,000 events/s',
            met: fresh.median >= 100_000,
            detail: `median ${fmt(fresh.median)}/s`,
          },
        ]),
    ...(latency === undefined ? [] : latencyGoals(latency)),
  ];
  return [
    `### Postgres outbox (@relaybus/outbox-pg), pool of ${CLIENTS}, ~130-byte envelopes`,
    '',
    `Appends: ${CLIENTS} concurrent clients for ${APPEND_MS / 1_000} s after a ${WARMUP_MS} ms warm-up; relay and replay over ${fmt(RELAY_EVENTS)} pre-filled events; fresh schemas, dropped afterwards.`,
    '',
    '| measure | relaybus | raw | relaybus / raw | settings |',
    '| --- | ---: | ---: | ---: | --- |',
    ...rows.map((r) => `| ${r.measure} | ${r.relaybus} | ${r.raw} | ${r.ratio} | ${r.settings} |`),
    '',
    'Goals:',
    '',
    ...goals.map((g) => `- ${g.text}: **${g.met ? 'met' : 'not met'}** (${g.detail})`),
  ].join('\n');
}

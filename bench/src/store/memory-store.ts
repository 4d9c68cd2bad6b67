import { type Envelope, type EventStore, memoryEventStore, replay } from '@relaybus/core';
import { BenchEvent, payload } from '../core/bench-event';
import { collectGarbage } from '../lib/gc';

const EVENTS = 1_000_000;
const SINGLE_APPENDS = 100_000;
const STREAMS = 1_000;

interface Row {
  readonly name: string;
  readonly eventsPerSecond: number;
  readonly note: string;
}

function rate(count: number, startedMs: number): number {
  return count / ((performance.now() - startedMs) / 1_000);
}

function makeEvents(count: number): Envelope[] {
  return Array.from({ length: count }, (_, i) => BenchEvent.create(payload(i)));
}

async function appendSingles(): Promise<Row> {
  const store = memoryEventStore();
  const events = makeEvents(SINGLE_APPENDS);
  const started = performance.now();
  for (let i = 0; i < events.length; i++) {
    await store.append(`s-${i % STREAMS}`, [events[i] as Envelope]);
  }
  return { name: 'append, 1 event per call', eventsPerSecond: rate(events.length, started), note: '' };
}

async function appendBatches(events: ReadonlyArray<Envelope>): Promise<{ row: Row; store: EventStore }> {
  const store = memoryEventStore();
  const started = performance.now();
  for (let i = 0; i < events.length; i += 100) {
    await store.append(`s-${(i / 100) % STREAMS}`, events.slice(i, i + 100));
  }
  return {
    row: { name: 'append, batches of 100', eventsPerSecond: rate(events.length, started), note: '' },
    store,
  };
}

async function readAll(store: EventStore): Promise<Row> {
  let count = 0;
  const started = performance.now();
  for await (const _event of store.readAll({ batchSize: 1_000 })) count += 1;
  return {
    name: `readAll, ${count.toLocaleString('en-US')} events`,
    eventsPerSecond: rate(count, started),
    note: '',
  };
}

async function replayNoop(store: EventStore): Promise<Row> {
  const started = performance.now();
  const result = await replay(store, { batchSize: 1_000, handle: () => {} });
  const perSecond = rate(result.events, started);
  return {
    name: 'replay into a no-op handler',
    eventsPerSecond: perSecond,
    note: `goal ≥ 5,000,000/s: ${perSecond >= 5_000_000 ? 'met' : 'not met'}`,
  };
}

async function replayAsyncNoop(store: EventStore): Promise<Row> {
  const started = performance.now();
  const result = await replay(store, { batchSize: 1_000, handle: async () => {} });
  return {
    name: 'replay into an async no-op handler (awaited)',
    eventsPerSecond: rate(result.events, started),
    note: '',
  };
}

async function bareLoop(): Promise<Row> {
  const noop = async (): Promise<void> => {};
  const started = performance.now();
  for (let i = 0; i < EVENTS; i++) await noop();
  return {
    name: 'bare loop awaiting an async no-op (reference)',
    eventsPerSecond: rate(EVENTS, started),
    note: '',
  };
}

function heapUsed(): number {
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

/** Runs the memory event store benchmark and returns its markdown table. */
export async function runMemoryStoreBench(log: (message: string) => void): Promise<string> {
  log('store/memory: appending single events');
  const singles = await appendSingles();
  const before = heapUsed();
  const events = makeEvents(EVENTS);
  log('store/memory: appending batches');
  const batches = await appendBatches(events);
  events.length = 0;
  const bytesPerEvent = (heapUsed() - before) / EVENTS;
  log('store/memory: reading and replaying');
  const rows = [
    singles,
    batches.row,
    await readAll(batches.store),
    await replayNoop(batches.store),
    await replayAsyncNoop(batches.store),
    await bareLoop(),
  ];
  const lines = [
    '### Memory event store (1,000,000 events, ~130-byte envelopes with a two-field payload)',
    '',
    '| measure | events/s | |',
    '| --- | ---: | --- |',
    ...rows.map(
      (row) => `| ${row.name} | ${Math.round(row.eventsPerSecond).toLocaleString('en-US')} | ${row.note} |`,
    ),
    '',
    `Memory per stored event (heap after GC, envelope and payload included): ${Math.round(bytesPerEvent)} bytes.`,
  ];
  await batches.store.close();
  return lines.join('\n');
}

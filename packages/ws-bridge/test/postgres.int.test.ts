import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createEventBus, type EventBus } from '@relaybus/core';
import { migrate, postgresEventStore } from '@relaybus/outbox-pg';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createWsBridge, type WsBridge } from '../src/index';
import { events, TaskCreated } from './support/fixture';
import { TestSocket } from './support/test-socket';

const connection = {
  host: process.env['PGHOST'] && !process.env['PGHOST'].startsWith('/') ? process.env['PGHOST'] : '127.0.0.1',
  port: Number(process.env['PGPORT'] || 5432),
  user: process.env['PGUSER'] || 'postgres',
  database: process.env['PGDATABASE'] || 'test',
};
const pool = new pg.Pool({ ...connection, max: 10 });
pool.on('error', () => {});
const run = `wsb_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
const schemas: string[] = [];
const cleanup: Array<() => Promise<unknown> | unknown> = [];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step();
  for (const schema of schemas) await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await pool.end();
});

async function setup(): Promise<{
  schema: string;
  bus: EventBus<(typeof events)[number]>;
  node: () => Promise<WsBridge>;
}> {
  const schema = `${run}_${schemas.length + 1}`;
  schemas.push(schema);
  await migrate(pool, { schema });
  const store = postgresEventStore({ pool, schema });
  const bus = createEventBus({ events, store, source: 'ws-bridge-pg-test' });
  cleanup.push(
    () => bus.close(),
    () => store.close(),
  );
  const node = async (): Promise<WsBridge> => {
    const nodeStore = postgresEventStore({ pool, schema });
    const bridge = createWsBridge({
      store: nodeStore,
      port: 0,
      heartbeatMs: 200,
      authenticate: ({ token }) => (token ? { id: token } : null),
    });
    cleanup.push(
      () => bridge.close({ timeoutMs: 500 }),
      () => nodeStore.close(),
    );
    await bridge.ready;
    return bridge;
  };
  return { schema, bus, node };
}

const urlOf = (bridge: WsBridge | number): string =>
  `ws://127.0.0.1:${typeof bridge === 'number' ? bridge : bridge.address().port}/relaybus`;
const numbers = (socket: TestSocket): number[] =>
  socket.events().map((frame) => (frame.event as { data: { n: number } }).data.n);

async function publish(bus: EventBus<(typeof events)[number]>, from: number, count: number): Promise<void> {
  for (let n = from; n < from + count; n++) await bus.publish(TaskCreated, { taskId: `t${n}`, n });
}

describe('ws-bridge on the Postgres event store', () => {
  it('clients on two nodes both see every event', async () => {
    const { bus, node } = await setup();
    const [a, b] = [await node(), await node()];
    const sockets = [await TestSocket.open(urlOf(a)), await TestSocket.open(urlOf(b))];
    for (const socket of sockets) {
      socket.send({ type: 'subscribe', id: 'r', sub: 's', pattern: 'task.*' });
      await socket.next('subscribed');
    }
    await publish(bus, 0, 30);
    for (const socket of sockets) {
      await socket.until(() => numbers(socket).length === 30, '30 events');
      expect(numbers(socket)).toEqual(Array.from({ length: 30 }, (_, n) => n));
      socket.ws.terminate();
    }
  });

  it('a client resumes after the server restarts, from the store, with nothing missed or doubled', async () => {
    const { bus, node } = await setup();
    const first = await node();
    const socket = await TestSocket.open(urlOf(first));
    socket.send({ type: 'subscribe', id: 'r', sub: 's', pattern: 'task.*' });
    await socket.next('subscribed');
    await publish(bus, 0, 10);
    await socket.until(() => numbers(socket).length === 10, '10 events');
    await first.close();
    expect(await socket.next('goodbye')).toMatchObject({ retryAfterMs: expect.any(Number) });
    await socket.waitClosed();
    const last = socket.events().at(-1)?.position as string;
    await publish(bus, 10, 15); // while no node runs
    const restarted = await node();
    const again = await TestSocket.open(urlOf(restarted));
    again.send({ type: 'subscribe', id: 'r', sub: 's', pattern: 'task.*', from: last });
    const publishing = publish(bus, 25, 15);
    expect(await again.next('subscribed')).toMatchObject({ resumed: true });
    await publishing;
    await again.until(() => numbers(again).length === 30, 'every later event');
    expect([...numbers(socket), ...numbers(again)]).toEqual(Array.from({ length: 40 }, (_, n) => n));
    again.ws.terminate();
  });

  it('a client resumes on a second node after the first is SIGKILLed', async () => {
    const { schema, bus, node } = await setup();
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--conditions=@relaybus/source',
        fileURLToPath(new URL('./support/bridge-child.ts', import.meta.url)),
      ],
      { env: { ...process.env, RELAY_SCHEMA: schema }, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] },
    );
    const exited = new Promise((resolve) => child.on('exit', resolve));
    cleanup.push(() => child.kill('SIGKILL'));
    const port = await new Promise<number>((resolve, reject) => {
      child.once('message', (message) => resolve((message as { port: number }).port));
      child.once('exit', (code) => reject(new Error(`the bridge child exited with ${code}`)));
    });
    const socket = await TestSocket.open(urlOf(port));
    socket.send({ type: 'subscribe', id: 'r', sub: 's', pattern: 'task.*' });
    await socket.next('subscribed');
    await publish(bus, 0, 10);
    await socket.until(() => numbers(socket).length === 10, '10 events from the first node');
    child.kill('SIGKILL');
    await exited;
    await socket.waitClosed();
    await publish(bus, 10, 10);
    const second = await node();
    const last = socket.frames.filter((f) => f.type === 'event' || f.type === 'heartbeat').at(-1) as {
      position: string;
    };
    const again = await TestSocket.open(urlOf(second));
    again.send({ type: 'subscribe', id: 'r', sub: 's', pattern: 'task.*', from: last.position });
    expect(await again.next('subscribed')).toMatchObject({ resumed: true, replayed: 10 });
    await publish(bus, 20, 5);
    await again.until(() => numbers(again).length === 15, 'the missed and the new events');
    expect([...numbers(socket), ...numbers(again)]).toEqual(Array.from({ length: 25 }, (_, n) => n));
    again.ws.terminate();
  });
});

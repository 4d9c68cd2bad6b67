import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createEventBus, memoryEventStore } from '@relaybus/core';
import { waitFor } from '@relaybus/core/testing';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createWsBridge, type Principal, type WsBridge } from '../src/index';
import { events, TaskCreated, UserCreated } from './support/fixture';

// The real client, bundled as an application would bundle it, in headless Chromium, against a real bridge that
// shares its HTTP server (and so its origin) with the page: a page on about:blank cannot reach 127.0.0.1.

/** What a client in the page recorded: its states, errors, and the task.* events its subscription received. */
interface Recording {
  readonly state: string;
  readonly states: string[];
  readonly errors: Array<{ code: string; closeCode?: number }>;
  readonly received: Array<{ id: string; n: number; position?: string; replayed: boolean }>;
  readonly resyncs: number;
}

/** What the page's script puts on `window` (typed here: the test's tsconfig has no DOM library). */
interface PageApi {
  ready?: boolean;
  start(token: string): void;
  recording(): Recording | undefined;
}

const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>relaybus bridge client</title>
<script type="module">
  import { createBridgeClient } from '/client.js';
  let client;
  let recording;
  window.start = (token) => {
    recording = { states: [], errors: [], received: [], resyncs: 0 };
    // A URL relative to the page, and the browser's own WebSocket.
    client = createBridgeClient({ url: '/relaybus', token, reconnect: { minDelayMs: 50, maxDelayMs: 500 } });
    client.on('state', (state) => recording.states.push(state));
    client.on('error', (error) => recording.errors.push({ code: error.code, closeCode: error.closeCode }));
    client.on('resync', () => recording.resyncs++);
    client.subscribe({ pattern: 'task.*' }, (event, { position, replayed }) => {
      recording.received.push({ id: event.id, n: event.data.n, position, replayed });
    });
  };
  window.recording = () => recording && { ...recording, state: client.state };
  window.ready = true;
</script>
`;

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];

/** The client bundled for the browser with esbuild, the bundler tsup uses (found through it, as scripts/ do). */
async function bundleClient(): Promise<string> {
  const requireFromTsup = createRequire(createRequire(import.meta.url).resolve('tsup'));
  const esbuild = requireFromTsup('esbuild') as {
    build(options: object): Promise<{ outputFiles: Array<{ text: string }> }>;
  };
  const result = await esbuild.build({
    entryPoints: [fileURLToPath(new URL('../src/client/index.ts', import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]?.text ?? '';
}

const store = memoryEventStore();
const bus = createEventBus({ events, store, source: 'ws-bridge-browser-test' });
/** Every `authenticate` call: what a refused or accepted client presented, and how. */
const authCalls: Array<{ token: string | undefined; phase: string; protocols: string | undefined }> = [];
/** Principals whose subscribe the bridge authorized: the subscription goes live right after. */
const authorized: string[] = [];
let clientJs = '';
let server: Server;
let origin: string;
let bridge: WsBridge;
let browser: Browser;
let context: BrowserContext | undefined;

function serve(request: IncomingMessage, response: ServerResponse): void {
  if (request.url === '/') {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
  } else if (request.url === '/client.js') {
    response.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(clientJs);
  } else {
    response.writeHead(404).end();
  }
}

/** A bridge on the page's server, over the one store: a second one after a restart resumes from the same log. */
async function startBridge(): Promise<WsBridge> {
  const started = createWsBridge<Principal>({
    store,
    server,
    origins: [origin],
    heartbeatMs: 500,
    goodbye: { minMs: 0, spreadMs: 200 },
    authenticate: ({ token, phase, headers }) => {
      authCalls.push({ token, phase, protocols: headers['sec-websocket-protocol'] });
      return token === undefined || token.startsWith('bad') ? null : { id: token };
    },
    authorize: {
      subscribe: (principal) => {
        authorized.push(principal.id);
        return true;
      },
    },
  });
  await started.ready;
  return started;
}

/** A fresh browser context (its own network state) with the page loaded and a client started with `token`. */
async function openPage(token: string): Promise<Page> {
  context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${origin}/`);
  await page.waitForFunction(() => (globalThis as unknown as PageApi).ready === true);
  await page.evaluate((value) => (globalThis as unknown as PageApi).start(value), token);
  return page;
}

async function recording(page: Page): Promise<Recording> {
  const value = await page.evaluate(() => (globalThis as unknown as PageApi).recording());
  if (value === undefined) throw new Error('no client was started in the page');
  return value;
}

async function until(page: Page, check: (recording: Recording) => boolean, what: string): Promise<Recording> {
  let last: Recording | undefined;
  await waitFor(
    async () => {
      last = await recording(page);
      return check(last);
    },
    {
      timeoutMs: 5_000,
      message: () => `${what} (page recorded ${JSON.stringify(last)})`,
    },
  );
  return last as Recording;
}

async function publish(from: number, to: number): Promise<void> {
  for (let n = from; n < to; n++) await bus.publish(TaskCreated, { taskId: `t${n}`, n });
}

/** Waits until `principal` has had `count` subscriptions authorized: the last one is live, nothing is missed. */
async function subscribedLive(principal: string, count: number): Promise<void> {
  await waitFor(() => authorized.filter((id) => id === principal).length >= count, {
    timeoutMs: 5_000,
    message: `subscription ${count} of ${principal} authorized`,
  });
}

/** Each event once, in store order, numbered `0 .. count - 1`. */
function expectExactlyOnceInOrder(received: Recording['received'], count: number): void {
  expect(received.map((event) => event.n)).toEqual(Array.from({ length: count }, (_, n) => n));
  expect(new Set(received.map((event) => event.id)).size).toBe(count);
  const positions = received.map((event) => event.position as string);
  expect(positions.every((position) => typeof position === 'string')).toBe(true);
  expect([...positions].sort()).toEqual(positions);
}

beforeAll(async () => {
  const [bundle, launched] = await Promise.all([
    bundleClient(),
    chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS }),
  ]);
  clientJs = bundle;
  browser = launched;
  server = createServer(serve);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  bridge = await startBridge();
});

afterEach(async () => {
  await context?.close();
  context = undefined;
});

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await bridge?.close({ timeoutMs: 1_000 });
  await new Promise<void>((resolve) => {
    server?.close(() => resolve());
    server?.closeAllConnections();
  });
  await bus.close();
  await store.close();
});

describe('the bridge client in Chromium', () => {
  it('sends its token as a subprotocol entry, which authenticate sees at the upgrade', async () => {
    const page = await openPage('alice');
    await until(page, (r) => r.state === 'open', 'the client open');
    const upgrade = authCalls.find((call) => call.token === 'alice');
    expect(upgrade).toEqual({
      token: 'alice',
      phase: 'upgrade',
      protocols: 'relaybus.v1, relaybus.bearer.alice',
    });
  });

  it('ends closed, with an error carrying close code 4001, when authenticate refuses the token', async () => {
    const page = await openPage('bad-token');
    const result = await until(page, (r) => r.state === 'closed', 'the client closed');
    expect(result.states).toEqual(['closed']);
    expect(result.errors).toContainEqual({ code: 'closed', closeCode: 4001 });
    // Closed for good: no second attempt with the refused token.
    expect(authCalls.filter((call) => call.token === 'bad-token')).toHaveLength(1);
  });

  it('resumes after the browser was offline: every event once, in order, then live again', async () => {
    const page = await openPage('carol');
    await until(page, (r) => r.state === 'open', 'the client open');
    await subscribedLive('carol', 1);
    await publish(0, 5);
    await bus.publish(UserCreated, { userId: 'u1' }); // not task.*: filtered out
    await until(page, (r) => r.received.length === 5, '5 live events');

    await context?.setOffline(true);
    await until(page, (r) => r.state === 'reconnecting', 'the client reconnecting while offline');
    await publish(5, 15);
    await context?.setOffline(false);
    await until(
      page,
      (r) => r.state === 'open' && r.received.length === 15,
      '10 events replayed after online',
    );
    await subscribedLive('carol', 2);
    await publish(15, 20);

    const result = await until(page, (r) => r.received.length === 20, '5 more live events');
    expectExactlyOnceInOrder(result.received, 20);
    expect(result.received.map((event) => event.replayed)).toEqual(
      Array.from({ length: 20 }, (_, n) => n >= 5 && n < 15),
    );
    expect(result.states).toEqual(['open', 'reconnecting', 'open']);
    expect(result.errors).toEqual([]);
    expect(result.resyncs).toBe(0);
  });

  it('resumes on a new bridge after a restart: every event once, in order', async () => {
    const page = await openPage('dave');
    await until(page, (r) => r.state === 'open', 'the client open');
    await subscribedLive('dave', 1);
    await publish(0, 3);
    await until(page, (r) => r.received.length === 3, '3 live events');

    // The old bridge says goodbye (4100, reconnect within 200 ms) and detaches from the server it was given.
    await bridge.close({ timeoutMs: 1_000 });
    await until(page, (r) => r.state === 'reconnecting', 'the client reconnecting');
    await publish(3, 10);
    bridge = await startBridge();
    await until(page, (r) => r.state === 'open' && r.received.length === 10, '7 events replayed');
    await subscribedLive('dave', 2);
    await publish(10, 13);

    const result = await until(page, (r) => r.received.length === 13, '3 more live events');
    expectExactlyOnceInOrder(result.received, 13);
    expect(result.received.map((event) => event.replayed)).toEqual(
      Array.from({ length: 13 }, (_, n) => n >= 3 && n < 10),
    );
    expect(result.states).toEqual(['open', 'reconnecting', 'open']);
    expect(result.errors).toEqual([]);
    expect(result.resyncs).toBe(0);
  });
});

import type { Envelope } from '@relaybus/core';
import { waitFor } from '@relaybus/core/testing';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import {
  type BridgeClient,
  type BridgeClientOptions,
  BridgeError,
  type BridgeSubscription,
  type ClientState,
  createBridgeClient,
  type DeliveryInfo,
} from '../src/client/index';
import { reconnectDelay } from '../src/client/reconnect-delay';
import { matchesPattern, matchesSelector } from '../src/client/selector-match';
import { BEARER_PREFIX, CLOSE, type LagMessage, SUBPROTOCOL } from '../src/protocol';
import { defaultAnswer, envelope, type FakeAnswer, FakeBridge } from './support/fake-bridge';

let bridge: FakeBridge;
const clients: BridgeClient[] = [];

beforeEach(async () => {
  bridge = await FakeBridge.start();
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await bridge.close();
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

function connect(options: Partial<BridgeClientOptions> = {}): BridgeClient {
  const client = createBridgeClient({
    url: bridge.url,
    WebSocket,
    reconnect: { minDelayMs: 10, maxDelayMs: 100 },
    ...options,
  });
  clients.push(client);
  return client;
}

/** Waits until the client is open on its `count`th connection (the server's welcome reached it). */
async function openOn(client: BridgeClient, count: number): Promise<void> {
  await waitFor(() => bridge.connections.length === count && client.state === 'open', {
    message: () =>
      `connection ${count} open (${bridge.connections.length} connections, state ${client.state})`,
  });
}

/** Records what a subscription's listener receives. */
function recorder() {
  const ids: string[] = [];
  const infos: DeliveryInfo[] = [];
  const listener = (event: Envelope, info: DeliveryInfo) => {
    ids.push(event.id);
    infos.push(info);
  };
  return { ids, infos, listener };
}

/** Waits until the latest connection carries `count` subscribe frames. */
async function subscribed(count: number): Promise<void> {
  await waitFor(() => bridge.connections.length > 0 && bridge.last.sent('subscribe').length === count, {
    message: () => `${count} subscribe frames (got ${bridge.connections.at(-1)?.sent('subscribe').length})`,
  });
}

describe('selector matching', () => {
  it.each([
    ['task.*', 'task.created', true],
    ['task.*', 'task.dates.changed', false],
    ['task.*', 'task', false],
    ['task.#', 'task', true],
    ['task.#', 'task.dates.changed', true],
    ['#', 'task.dates.changed', true],
    ['#.changed', 'task.dates.changed', true],
    ['*.created', 'created', false],
    ['a.#.z', 'a.z', true],
    ['a.#.z', 'a.b.c.z', true],
    ['a.#.z', 'a.b.c', false],
    ['task.created', 'task.created', true],
    ['task.created', 'task.createdx', false],
  ])('pattern %s against %s: %s', (pattern, topic, expected) => {
    expect(matchesPattern(pattern, topic)).toBe(expected);
  });

  it('takes the union of types and pattern, then narrows by every subject and metadata filter', () => {
    const event = envelope('task.created', { subject: 't1', metadata: { projectId: 'p1', tenant: 'acme' } });
    expect(matchesSelector({ types: ['project.created'], pattern: 'task.*' }, event)).toBe(true);
    expect(matchesSelector({ types: ['project.created'] }, event)).toBe(false);
    expect(matchesSelector({ pattern: '#', subject: ['t0', 't1'] }, event)).toBe(true);
    expect(matchesSelector({ pattern: '#', subject: 't2' }, event)).toBe(false);
    expect(matchesSelector({ pattern: '#', subject: 't1' }, envelope('task.created'))).toBe(false);
    expect(matchesSelector({ pattern: '#', metadata: { projectId: 'p1', tenant: 'acme' } }, event)).toBe(
      true,
    );
    expect(matchesSelector({ pattern: '#', metadata: { projectId: 'p1', tenant: 'other' } }, event)).toBe(
      false,
    );
  });

  it('refuses a selector without types or pattern, and a malformed pattern', () => {
    const client = connect();
    expect(() => client.subscribe({ subject: 't1' }, () => {})).toThrow(BridgeError);
    for (const pattern of ['task..x', 'task.*x', '', 'task.']) {
      expect(() => client.subscribe({ pattern }, () => {})).toThrow(/malformed/);
    }
  });
});

describe('routing', () => {
  it('routes each event to every subscription whose selector matches it', async () => {
    const client = connect();
    const created = recorder();
    const taskOne = recorder();
    const projectOne = recorder();
    client.subscribe({ types: ['task.created'] }, created.listener);
    client.subscribe({ pattern: 'task.#', subject: ['t1'] }, taskOne.listener);
    client.subscribe({ pattern: '*.created', metadata: { projectId: 'p1' } }, projectOne.listener);
    await openOn(client, 1);
    await subscribed(3);
    expect(bridge.last.sent('subscribe').map(({ id: _, ...rest }) => rest)).toEqual([
      { type: 'subscribe', sub: 's1', types: ['task.created'] },
      { type: 'subscribe', sub: 's2', pattern: 'task.#', subject: ['t1'] },
      { type: 'subscribe', sub: 's3', pattern: '*.created', metadata: { projectId: 'p1' } },
    ]);

    const events = [
      envelope('task.created', { subject: 't1', metadata: { projectId: 'p1' } }),
      envelope('task.dates.changed', { subject: 't1' }),
      envelope('project.created', { subject: 'p2', metadata: { projectId: 'p2' } }),
      envelope('task.created', { subject: 't2', metadata: { projectId: 'p2' } }),
    ];
    for (const [index, event] of events.entries()) {
      bridge.last.send({ type: 'event', position: `000${index + 1}`, event });
    }
    await waitFor(() => created.ids.length === 2, { message: () => `2 task.created (got ${created.ids})` });
    const [e1, e2, , e4] = events.map((event) => event.id);
    expect(created.ids).toEqual([e1, e4]);
    expect(taskOne.ids).toEqual([e1, e2]);
    expect(projectOne.ids).toEqual([e1]);
    expect(created.infos[0]).toEqual({ position: '0001', replayed: false });
  });

  it('delivers an event once per subscription, however often it arrives, within the ids it remembers', async () => {
    const client = connect({ dedupe: 2 });
    const all = recorder();
    client.subscribe({ pattern: '#' }, all.listener);
    await openOn(client, 1);
    await subscribed(1);
    const [a, b, c] = [envelope('x.a'), envelope('x.b'), envelope('x.c')];
    // No positions (a server without a store): only the ids tell duplicates apart.
    for (const event of [a, a, b, a, c, a, b]) bridge.last.send({ type: 'event', event });
    await waitFor(() => all.ids.length === 4, { message: () => `4 deliveries (got ${all.ids})` });
    // Seeing `a` again made `b` the least recently seen id, the one `c` pushed out: only `b` came through twice.
    expect(all.ids).toEqual([a.id, b.id, c.id, b.id]);
  });

  it('drops an event not newer than what the subscription already saw', async () => {
    const client = connect();
    const all = recorder();
    client.subscribe({ pattern: '#' }, all.listener);
    await openOn(client, 1);
    await subscribed(1);
    const [first, older, newer] = [envelope('x.a'), envelope('x.b'), envelope('x.c')];
    bridge.last.send({ type: 'event', position: '0005', event: first });
    bridge.last.send({ type: 'event', position: '0004', event: older });
    bridge.last.send({ type: 'event', position: '0006', event: newer });
    await waitFor(() => all.ids.length === 2, { message: () => `2 deliveries (got ${all.ids})` });
    expect(all.ids).toEqual([first.id, newer.id]);
  });
});

describe('resuming', () => {
  it('resubscribes after a dropped connection from the last position, and takes only what it missed', async () => {
    const client = connect();
    const all = recorder();
    const sub = client.subscribe({ pattern: 'task.*' }, all.listener);
    await openOn(client, 1);
    await subscribed(1);
    expect(bridge.last.sent('subscribe')[0]).not.toHaveProperty('from');
    const events = [1, 2, 3, 4].map(() => envelope('task.created'));
    bridge.last.send({ type: 'event', position: '0001', event: events[0] as Envelope });
    bridge.last.send({ type: 'event', position: '0002', event: events[1] as Envelope });
    await waitFor(() => sub.position === '0002', { message: () => `position 0002 (at ${sub.position})` });

    bridge.answer = (frame, connection) => {
      if (frame.type !== 'subscribe') return;
      // A replay that starts one too early (the seam is the server's job; the client must not repeat 0002).
      for (const [index, position] of ['0002', '0003'].entries()) {
        connection.send({ type: 'event', sub: frame.sub, position, event: events[index + 1] as Envelope });
      }
      connection.send({
        type: 'subscribed',
        id: frame.id,
        sub: frame.sub,
        resumed: true,
        replayed: 2,
        position: '0003',
      });
      connection.send({ type: 'event', position: '0004', event: events[3] as Envelope });
    };
    bridge.last.socket.terminate();
    await openOn(client, 2);
    await waitFor(() => all.ids.length === 4, { message: () => `4 deliveries (got ${all.ids})` });
    expect(bridge.last.sent('subscribe')[0]).toMatchObject({ sub: sub.id, pattern: 'task.*', from: '0002' });
    expect(all.ids).toEqual(events.map((event) => event.id));
    expect(all.infos.map((info) => info.replayed)).toEqual([false, false, true, false]);
    expect(sub.position).toBe('0004');
  });

  it('takes only its replay while catching up, whatever live events and heartbeats arrive meanwhile', async () => {
    const client = connect();
    const catching = recorder();
    const live = recorder();
    const [old, current] = [envelope('task.created'), envelope('task.created')];
    const sub = client.subscribe({ types: ['task.created'], from: '0001' }, catching.listener);
    client.subscribe({ types: ['task.created'] }, live.listener);
    bridge.answer = (frame, connection) => {
      if (frame.type !== 'subscribe') return;
      if (frame.from === undefined) return defaultAnswer(frame, connection);
      // The live event and heartbeat are newer than the replay still to come; taking them would skip it.
      connection.send({ type: 'event', position: '0009', event: current });
      connection.send({ type: 'heartbeat', position: '0009' });
      connection.send({ type: 'event', sub: frame.sub, position: '0005', event: old });
      connection.send({ type: 'event', sub: frame.sub, position: '0009', event: current });
      connection.send({
        type: 'subscribed',
        id: frame.id,
        sub: frame.sub,
        resumed: true,
        replayed: 2,
        position: '0009',
      });
    };
    await openOn(client, 1);
    await waitFor(() => catching.ids.length === 2 && live.ids.length === 1, {
      message: () => `2 replayed and 1 live delivery (got ${catching.ids} and ${live.ids})`,
    });
    expect(catching.ids).toEqual([old.id, current.id]);
    expect(catching.infos.map((info) => info.replayed)).toEqual([true, true]);
    expect(live.ids).toEqual([current.id]);
    expect(sub.position).toBe('0009');
  });

  it('starts a subscription after the position it is given, and reports when the server cannot resume', async () => {
    bridge.answer = (frame, connection) => {
      if (frame.type !== 'subscribe') return;
      const resumed = frame.from === '0007';
      connection.send({
        type: 'subscribed',
        id: frame.id,
        sub: frame.sub,
        resumed,
        replayed: 0,
        ...(resumed ? {} : { reason: 'too_far_behind' }),
      });
    };
    const client = connect();
    const resyncs: Array<[BridgeSubscription, string | undefined]> = [];
    client.on('resync', (subscription, reason) => resyncs.push([subscription, reason]));
    const resumable = client.subscribe({ types: ['task.created'], from: '0007' }, () => {});
    const behind = client.subscribe({ types: ['task.created'], from: '0001' }, () => {});
    await openOn(client, 1);
    await waitFor(() => resyncs.length === 1, { message: () => `one resync (got ${resyncs.length})` });
    expect(bridge.last.sent('subscribe').map((frame) => frame.from)).toEqual(['0007', '0001']);
    expect(resyncs).toEqual([[behind, 'too_far_behind']]);
    expect(resumable.position).toBe('0007');
  });

  it('asks for a resync after a reconnect to a server without a store, which cannot resume', async () => {
    bridge.answer = (frame, connection) => {
      if (frame.type !== 'subscribe') return;
      connection.send({ type: 'subscribed', id: frame.id, sub: frame.sub, resumed: false, replayed: 0 });
    };
    const client = connect();
    const resyncs: Array<[BridgeSubscription, string | undefined]> = [];
    client.on('resync', (subscription, reason) => resyncs.push([subscription, reason]));
    const sub = client.subscribe({ types: ['task.created'] }, () => {});
    await openOn(client, 1);
    await subscribed(1);
    bridge.last.send({ type: 'event', event: envelope('task.created') });
    bridge.last.socket.terminate();
    await openOn(client, 2);
    await waitFor(() => resyncs.length === 1, { message: 'a resync after the reconnect' });
    expect(bridge.last.sent('subscribe')[0]).not.toHaveProperty('from');
    expect(resyncs).toEqual([[sub, undefined]]);
  });

  it('moves positions on with heartbeats, and reconnects when the heartbeats stop', async () => {
    bridge.welcome = () => ({ heartbeatMs: 40 });
    const client = connect();
    const sub = client.subscribe({ types: ['task.created'] }, () => {});
    await openOn(client, 1);
    await subscribed(1);
    const first = bridge.last;
    for (const position of ['0010', '0011', '0012']) {
      first.send({ type: 'heartbeat', position });
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(sub.position).toBe('0012');
    // Silence from here on: after 2.5 heartbeat periods (100 ms) the client gives the connection up.
    await openOn(client, 2);
    expect(first.closeCode).toBeDefined();
    await subscribed(1);
    expect(bridge.last.sent('subscribe')[0]?.from).toBe('0012');
  });

  it('reports lag, and asks every subscription to resync', async () => {
    const client = connect();
    const a = client.subscribe({ types: ['task.created'] }, () => {});
    const b = client.subscribe({ pattern: 'project.#' }, () => {});
    const lags: LagMessage[] = [];
    const resyncs: Array<[BridgeSubscription, string | undefined]> = [];
    client.on('lag', (lag) => lags.push(lag));
    client.on('resync', (subscription, reason) => resyncs.push([subscription, reason]));
    await openOn(client, 1);
    bridge.last.send({ type: 'lag', dropped: 12, from: '0040' });
    await waitFor(() => resyncs.length === 2, { message: () => `2 resyncs (got ${resyncs.length})` });
    expect(lags).toEqual([{ type: 'lag', dropped: 12, from: '0040' }]);
    expect(resyncs).toEqual([
      [a, 'lag'],
      [b, 'lag'],
    ]);
  });
});

describe('reconnecting', () => {
  it('backs off with full jitter, capped, and follows the close code classes', () => {
    vi.spyOn(Math, 'random').mockReturnValue(1);
    const options = { minDelayMs: 500, maxDelayMs: 30_000 };
    expect([0, 1, 2, 10].map((attempt) => reconnectDelay(1006, attempt, undefined, options))).toEqual([
      500, 1_000, 2_000, 30_000,
    ]);
    expect(reconnectDelay(CLOSE.overloaded, 3, undefined, options)).toBe(4_000);
    expect(reconnectDelay(CLOSE.goingAway, 3, 1_234, options)).toBe(1_234);
    expect(reconnectDelay(CLOSE.slowConsumer, 10, undefined, options)).toBeLessThanOrEqual(250);
    for (const code of [CLOSE.unauthorized, CLOSE.forbidden, CLOSE.protocolError, 4099]) {
      expect(reconnectDelay(code, 0, 1_000, options)).toBeUndefined();
    }
    vi.spyOn(Math, 'random').mockReturnValue(0);
    expect(reconnectDelay(1006, 5, undefined, options)).toBe(0);
  });

  it('waits as long as goodbye advises before reconnecting', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.999);
    // With this backoff, only the advice can bring the client back within the wait below.
    const client = connect({ reconnect: { minDelayMs: 60_000, maxDelayMs: 60_000 } });
    await openOn(client, 1);
    const closedAt = Date.now();
    bridge.last.send({ type: 'goodbye', reason: 'deploy', retryAfterMs: 150 });
    bridge.last.socket.close(CLOSE.goingAway, 'deploy');
    await openOn(client, 2);
    expect(Date.now() - closedAt).toBeGreaterThanOrEqual(140);
  });

  it.each([CLOSE.unauthorized, CLOSE.forbidden, CLOSE.protocolError])(
    'stops for good on close code %i and reports it',
    async (code) => {
      const client = connect();
      const errors: BridgeError[] = [];
      const states: ClientState[] = [];
      client.on('error', (error) => errors.push(error));
      client.on('state', (state) => states.push(state));
      await openOn(client, 1);
      bridge.last.socket.close(code, 'no');
      await waitFor(() => errors.length === 1, { message: 'an error' });
      expect(errors[0]).toMatchObject({ code: 'closed', closeCode: code, retry: false });
      expect(errors[0]?.message).toContain(`${code} (no)`);
      expect(client.state).toBe('closed');
      expect(states).toEqual(['open', 'closed']);
      // Ten backoff periods later, it has still not come back.
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(bridge.connections).toHaveLength(1);
    },
  );

  it('reconnects with backoff after an overload refusal, through the reconnecting state', async () => {
    const client = connect();
    const states: ClientState[] = [];
    client.on('state', (state) => states.push(state));
    await openOn(client, 1);
    bridge.last.socket.close(CLOSE.overloaded, 'full');
    await openOn(client, 2);
    expect(states).toEqual(['open', 'reconnecting', 'open']);
  });

  it.each([CLOSE.slowConsumer, CLOSE.tokenExpired])('reconnects at once on close code %i', async (code) => {
    vi.spyOn(Math, 'random').mockReturnValue(0.999);
    const client = connect({ reconnect: { minDelayMs: 60_000, maxDelayMs: 60_000 } });
    await openOn(client, 1);
    bridge.last.socket.close(code);
    await openOn(client, 2);
  });

  it('retries a subscription the server refused for now, and closes one it refused for good', async () => {
    let refusals = 0;
    const answer: FakeAnswer = (frame, connection) => {
      if (frame.type === 'subscribe' && frame.pattern === 'secret.#') {
        connection.send({
          type: 'error',
          id: frame.id,
          code: 'forbidden',
          message: 'not yours',
          retry: false,
        });
      } else if (frame.type === 'subscribe' && refusals++ === 0) {
        connection.send({
          type: 'error',
          id: frame.id,
          code: 'rate_limited',
          message: 'slow down',
          retry: true,
        });
      } else defaultAnswer(frame, connection);
    };
    bridge.answer = answer;
    const client = connect();
    const errors: BridgeError[] = [];
    client.on('error', (error) => errors.push(error));
    const limited = client.subscribe({ types: ['task.created'] }, () => {});
    const secret = client.subscribe({ pattern: 'secret.#' }, () => {});
    await openOn(client, 1);
    await waitFor(() => bridge.last.sent('subscribe').length === 3, { message: 'the retried subscribe' });
    expect(errors.map((error) => [error.code, error.retry, error.subscription])).toEqual([
      ['rate_limited', true, limited],
      ['forbidden', false, secret],
    ]);
    expect(secret.closed).toBe(true);
    expect(limited.closed).toBe(false);
    secret.close();
    limited.close();
    await waitFor(() => bridge.last.sent('unsubscribe').length === 1, { message: 'an unsubscribe' });
    expect(bridge.last.sent('unsubscribe')[0]?.sub).toBe(limited.id);
  });
});

describe('credentials', () => {
  it('offers the token as a second subprotocol entry, and gets a fresh one for every connection', async () => {
    let issued = 0;
    const client = connect({ token: () => `tok-${++issued}` });
    await openOn(client, 1);
    expect(bridge.last.protocols).toEqual([SUBPROTOCOL, `${BEARER_PREFIX}tok-1`]);
    expect(bridge.last.socket.protocol).toBe(SUBPROTOCOL);
    bridge.last.socket.close(CLOSE.tokenExpired);
    await openOn(client, 2);
    expect(bridge.last.protocols).toEqual([SUBPROTOCOL, `${BEARER_PREFIX}tok-2`]);
    expect(bridge.last.sent('hello')).toEqual([]);
  });

  it('sends a token a subprotocol cannot carry in a hello frame', async () => {
    const client = connect({ token: 'a token with spaces' });
    await waitFor(() => bridge.connections.length === 1 && bridge.last.frames.length === 1, {
      message: 'hello',
    });
    expect(bridge.last.protocols).toEqual([SUBPROTOCOL]);
    expect(bridge.last.frames).toEqual([{ type: 'hello', token: 'a token with spaces' }]);
    await openOn(client, 1);
  });

  it('refreshes the token ahead of its expiry, again after each refresh', async () => {
    bridge.welcome = () => ({ heartbeatMs: 60_000, expiresAt: Date.now() + 1_300 });
    bridge.answer = (frame, connection) => {
      if (frame.type === 'refresh') {
        connection.send({ type: 'refreshed', id: frame.id, expiresAt: Date.now() + 1_300 });
      } else defaultAnswer(frame, connection);
    };
    let issued = 0;
    const client = connect({ token: async () => `tok-${++issued}` });
    await openOn(client, 1);
    await waitFor(() => bridge.last.sent('refresh').length === 2, {
      timeoutMs: 5_000,
      message: '2 refreshes',
    });
    expect(bridge.last.sent('refresh').map((frame) => frame.token)).toEqual(['tok-2', 'tok-3']);
    expect(bridge.connections).toHaveLength(1);
  });

  it('closes and reports it when the WebSocket class refuses to connect', async () => {
    class Refusing {
      constructor() {
        throw new Error('blocked port');
      }
      send(): void {}
      close(): void {}
    }
    const client = connect({ WebSocket: Refusing });
    const errors: BridgeError[] = [];
    client.on('error', (error) => errors.push(error));
    await waitFor(() => client.state === 'closed', { message: 'the client closed' });
    expect(errors.map((error) => [error.code, error.message])).toEqual([
      ['invalid_option', 'cannot connect: Error: blocked port'],
    ]);
  });

  it('reports a failing token function and tries again with backoff', async () => {
    let calls = 0;
    const client = connect({
      token: () => {
        if (++calls === 1) throw new Error('auth server down');
        return 'tok';
      },
    });
    const errors: BridgeError[] = [];
    client.on('error', (error) => errors.push(error));
    await openOn(client, 1);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'token_failed', retry: true });
    expect(((errors[0] as BridgeError).cause as Error).message).toBe('auth server down');
  });
});

describe('lifecycle', () => {
  it('closes with 1000, unsubscribes, and is closed by an aborted signal', async () => {
    const controller = new AbortController();
    const client = connect({ signal: controller.signal });
    const sub = client.subscribe({ types: ['task.created'] }, () => {});
    await openOn(client, 1);
    await subscribed(1);
    sub.close();
    await waitFor(() => bridge.last.sent('unsubscribe').length === 1, { message: 'an unsubscribe' });
    controller.abort();
    expect(client.state).toBe('closed');
    await waitFor(() => bridge.last.closeCode === 1000, {
      message: () => `close 1000 (${bridge.last.closeCode})`,
    });
  });

  it('follows the page: pagehide closes, pageshow from the cache and online reconnect, offline waits', async () => {
    const page = new EventTarget();
    const document = Object.assign(new EventTarget(), { visibilityState: 'visible' });
    vi.stubGlobal('window', page);
    vi.stubGlobal('document', document);
    const client = connect();
    await openOn(client, 1);

    page.dispatchEvent(new Event('pagehide'));
    expect(client.state).toBe('reconnecting');
    await waitFor(() => bridge.last.closeCode === 1000, { message: 'a clean close on pagehide' });
    page.dispatchEvent(Object.assign(new Event('pageshow'), { persisted: true }));
    await openOn(client, 2);

    page.dispatchEvent(new Event('offline'));
    expect(client.state).toBe('reconnecting');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(bridge.connections).toHaveLength(2);
    page.dispatchEvent(new Event('online'));
    await openOn(client, 3);
  });

  it('reconnects at once when the page becomes visible', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.999);
    const document = Object.assign(new EventTarget(), { visibilityState: 'hidden' });
    vi.stubGlobal('window', new EventTarget());
    vi.stubGlobal('document', document);
    const client = connect({ reconnect: { minDelayMs: 60_000, maxDelayMs: 60_000 } });
    await openOn(client, 1);
    bridge.last.socket.close(CLOSE.overloaded);
    await waitFor(() => client.state === 'reconnecting', { message: 'reconnecting' });
    document.visibilityState = 'visible';
    document.dispatchEvent(new Event('visibilitychange'));
    await openOn(client, 2);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CLOSE, SUBPROTOCOL } from '../src/index';
import { type Fixture, startBridge, TaskCompleted, TaskCreated, UserCreated } from './support/fixture';
import { TestSocket } from './support/test-socket';

let fixture: Fixture | undefined;
const sockets: TestSocket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.ws.terminate();
  await fixture?.close();
  fixture = undefined;
});

async function open(token = 'alice', extra: { autoPong?: boolean } = {}): Promise<TestSocket> {
  const socket = await TestSocket.open((fixture as Fixture).url, token, extra);
  sockets.push(socket);
  return socket;
}

async function publish(count: number, from = 0, subject?: string): Promise<void> {
  for (let n = from; n < from + count; n++) {
    await (fixture as Fixture).bus.publish(TaskCreated, { taskId: `t${n}`, n }, subject ? { subject } : {});
  }
}

async function publishBig(count: number): Promise<void> {
  const big = 'x'.repeat(8_000);
  for (let n = 0; n < count; n++) {
    await (fixture as Fixture).bus.publish(UserCreated, { userId: `${n}-${big}` });
    if (n % 10 === 9) await new Promise((resolve) => setImmediate(resolve));
  }
}

const numbers = (socket: TestSocket, sub?: string): number[] =>
  socket.events(sub).map((frame) => (frame.event as { data: { n: number } }).data.n);

describe('subscriptions', () => {
  it('delivers matching events in order with their positions, and stops after unsubscribe', async () => {
    fixture = await startBridge();
    const socket = await open();
    socket.send({ type: 'subscribe', id: 'r1', sub: 's1', pattern: 'task.*' });
    const subscribed = await socket.next('subscribed');
    expect(subscribed).toMatchObject({ id: 'r1', sub: 's1', resumed: false, replayed: 0 });
    await publish(3);
    await fixture.bus.publish(UserCreated, { userId: 'u1' });
    await fixture.bus.publish(TaskCompleted, { taskId: 't0', n: 99 });
    await socket.until(() => socket.events().length === 4, '4 events');
    expect(numbers(socket)).toEqual([0, 1, 2, 99]);
    const positions = socket.events().map((frame) => frame.position as string);
    expect([...positions].sort()).toEqual(positions);
    expect(socket.events().every((frame) => frame.sub === undefined)).toBe(true);
    socket.send({ type: 'unsubscribe', id: 'r2', sub: 's1' });
    await socket.next('unsubscribed', (frame) => frame.sub === 's1');
    await publish(1, 10);
    socket.send({ type: 'ping', id: 'p1' });
    await socket.next('pong');
    expect(socket.events()).toHaveLength(4);
  });

  it('frames events of every length class (7-bit, 16-bit and 64-bit lengths) that a standard client reads', async () => {
    fixture = await startBridge();
    const socket = await open();
    socket.send({ type: 'subscribe', id: 'r1', sub: 's', pattern: 'user.*' });
    await socket.next('subscribed');
    const sizes = [1, 60, 125, 200, 65_000, 70_000, 300_000];
    for (const size of sizes) await fixture.bus.publish(UserCreated, { userId: 'u'.repeat(size) });
    await socket.until(() => socket.events().length === sizes.length, 'every event');
    expect(
      socket.events().map((frame) => (frame.event as { data: { userId: string } }).data.userId.length),
    ).toEqual(sizes);
  });

  it('filters by exact types, subject and metadata', async () => {
    fixture = await startBridge();
    const socket = await open();
    socket.send({ type: 'subscribe', id: 'r1', sub: 'types', types: ['task.completed'] });
    socket.send({ type: 'subscribe', id: 'r2', sub: 'subject', pattern: '#', subject: ['task-a'] });
    socket.send({ type: 'subscribe', id: 'r3', sub: 'meta', pattern: 'task.#', metadata: { project: 'p1' } });
    for (const id of ['r1', 'r2', 'r3']) await socket.next('subscribed', (frame) => frame.id === id);
    const { bus } = fixture;
    await bus.publish(TaskCreated, { taskId: 'x', n: 1 }); // none
    await bus.publish(TaskCompleted, { taskId: 'x', n: 2 }); // types
    await bus.publish(UserCreated, { userId: 'u' }, { subject: 'task-a' }); // subject
    await bus.publish(TaskCreated, { taskId: 'x', n: 3 }, { metadata: { project: 'p1' } }); // meta
    await bus.publish(TaskCreated, { taskId: 'x', n: 4 }, { metadata: { project: 'p2' } }); // none
    await socket.until(() => socket.events().length === 3, '3 events');
    await publish(1, 50);
    socket.send({ type: 'ping', id: 'p' });
    await socket.next('pong');
    expect(socket.events().map((frame) => (frame.event as { type: string }).type)).toEqual([
      'task.completed',
      'user.created',
      'task.created',
    ]);
  });

  it('refuses malformed subscriptions with bad_request naming the field, and duplicate or excess ones', async () => {
    fixture = await startBridge({ limits: { maxSubscriptions: 2 } });
    const socket = await open();
    socket.send({ type: 'subscribe', id: 'a', sub: 's' });
    expect(await socket.next('error', (f) => f.id === 'a')).toMatchObject({
      code: 'bad_request',
      message: expect.stringMatching(/types.*pattern/),
    });
    socket.send({ type: 'subscribe', id: 'b', sub: 's', pattern: 'task..x' });
    expect(await socket.next('error', (f) => f.id === 'b')).toMatchObject({
      code: 'bad_request',
      message: expect.stringContaining('task..x'),
    });
    socket.send({ type: 'subscribe', id: 'c', sub: 's', types: 'task.created' });
    expect(await socket.next('error', (f) => f.id === 'c')).toMatchObject({
      code: 'bad_request',
      message: expect.stringContaining('"types"'),
    });
    socket.send({ type: 'subscribe', id: 'd', sub: 's', pattern: '#', metadata: { a: 1 } });
    expect(await socket.next('error', (f) => f.id === 'd')).toMatchObject({
      message: expect.stringContaining('metadata.a'),
    });
    socket.send({ type: 'subscribe', id: 'e', sub: 's1', pattern: '#' });
    await socket.next('subscribed', (f) => f.id === 'e');
    socket.send({ type: 'subscribe', id: 'f', sub: 's1', pattern: '#' });
    expect(await socket.next('error', (f) => f.id === 'f')).toMatchObject({
      code: 'bad_subscription',
      retry: false,
    });
    socket.send({ type: 'subscribe', id: 'g', sub: 's2', pattern: '#' });
    await socket.next('subscribed', (f) => f.id === 'g');
    socket.send({ type: 'subscribe', id: 'h', sub: 's3', pattern: '#' });
    expect(await socket.next('error', (f) => f.id === 'h')).toMatchObject({ code: 'too_many_subscriptions' });
    socket.send({ type: 'unsubscribe', id: 'i', sub: 'nope' });
    expect(await socket.next('error', (f) => f.id === 'i')).toMatchObject({ code: 'bad_subscription' });
  });
});

describe('resume', () => {
  it('replays what a dropped client missed, in order, once, then continues live with no gap at the seam', async () => {
    fixture = await startBridge();
    const first = await open();
    first.send({ type: 'subscribe', id: 'r1', sub: 's', pattern: 'task.*' });
    await first.next('subscribed');
    await publish(5);
    await first.until(() => first.events().length === 5, '5 events');
    const last = first.events().at(-1)?.position as string;
    first.ws.terminate();
    await publish(20, 5);
    const second = await open();
    second.send({ type: 'subscribe', id: 'r2', sub: 's', pattern: 'task.*', from: last });
    // Publishing while the replay runs: the seam must hold.
    const publishing = publish(30, 25);
    const subscribed = await second.next('subscribed');
    await publishing;
    await second.until(() => numbers(second).length >= 50, 'every event after the resume point');
    expect(subscribed).toMatchObject({ resumed: true, sub: 's' });
    expect(subscribed.replayed).toBeGreaterThanOrEqual(20);
    expect(numbers(second)).toEqual(Array.from({ length: 50 }, (_, index) => index + 5));
    const replayed = second.events().slice(0, subscribed.replayed);
    expect(replayed.every((frame) => frame.sub === 's')).toBe(true);
    expect(
      second
        .events()
        .slice(subscribed.replayed)
        .every((frame) => frame.sub === undefined),
    ).toBe(true);
  });

  it('on an empty store the position is the start of the log (""), and resuming from it misses nothing', async () => {
    fixture = await startBridge();
    const socket = await open();
    expect(socket.frames.find((frame) => frame.type === 'welcome')).toMatchObject({ position: '' });
    socket.send({ type: 'subscribe', id: 'r1', sub: 's', pattern: 'task.*' });
    expect(await socket.next('subscribed')).toMatchObject({ position: '' });
    socket.ws.terminate();
    await publish(3);
    const again = await open();
    again.send({ type: 'subscribe', id: 'r2', sub: 's', pattern: 'task.*', from: '' });
    expect(await again.next('subscribed')).toMatchObject({ resumed: true, replayed: 3 });
    expect(numbers(again)).toEqual([0, 1, 2]);
  });

  it('the client: `ready` settles once the server has the subscription, and a drop on an empty store loses nothing', async () => {
    fixture = await startBridge({ goodbye: { minMs: 0, spreadMs: 50 } });
    const { createBridgeClient } = await import('../src/client/index');
    const client = createBridgeClient({
      url: fixture.url,
      token: 'alice',
      WebSocket,
      reconnect: { minDelayMs: 10, maxDelayMs: 50 },
    });
    const seen: number[] = [];
    const sub = client.subscribe({ pattern: 'task.*' }, (event) => {
      seen.push((event.data as { n: number }).n);
    });
    await sub.ready;
    expect(fixture.bridge.stats().subscriptions).toBe(1);
    // The node goes away before any event: the subscription resumes from the start of the log on the next one.
    await fixture.bridge.close();
    const store = fixture.store;
    const { createWsBridge } = await import('../src/index');
    const { authenticate } = await import('./support/fixture');
    await publish(3);
    const port = Number(new URL(fixture.url).port);
    const second = createWsBridge({ store, port, authenticate, heartbeatMs: 200 });
    await second.ready;
    try {
      await publish(2, 3);
      const deadline = Date.now() + 10_000;
      while (seen.length < 5 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 20));
      expect(seen).toEqual([0, 1, 2, 3, 4]);
    } finally {
      client.close();
      await second.close();
    }
    const refused = client.subscribe({ pattern: 'task.*' }, () => {});
    expect(refused.closed).toBe(true);
  });

  it('a heartbeat carries the position on a quiet connection, and resuming from it misses nothing', async () => {
    fixture = await startBridge({ heartbeatMs: 100 });
    const socket = await open();
    socket.send({ type: 'subscribe', id: 'r1', sub: 's', types: ['task.completed'] });
    await socket.next('subscribed');
    await publish(10); // task.created: not matched, but they move the position
    const heartbeat = await socket.next(
      'heartbeat',
      (frame) => frame.position === fixture?.bridge.stats().position,
    );
    socket.ws.terminate();
    await fixture.bus.publish(TaskCompleted, { taskId: 'x', n: 7 });
    const again = await open();
    again.send({ type: 'subscribe', id: 'r', sub: 's', types: ['task.completed'], from: heartbeat.position });
    const subscribed = await again.next('subscribed');
    expect(subscribed).toMatchObject({ resumed: true, replayed: 1 });
    expect(numbers(again)).toEqual([7]);
  });

  it('says resumed: false with a reason when it cannot: an unknown position, or more than maxReplayEvents', async () => {
    fixture = await startBridge({ limits: { maxReplayEvents: 3 } });
    await publish(10);
    const socket = await open();
    socket.send({ type: 'subscribe', id: 'a', sub: 'gone', pattern: '#', from: 'not-a-position' });
    expect(await socket.next('subscribed', (f) => f.id === 'a')).toMatchObject({
      resumed: false,
      reason: 'position_gone',
    });
    const first = (await fixture.store.readPage({ limit: 1 })).events[0]?.position as string;
    socket.send({ type: 'subscribe', id: 'b', sub: 'far', pattern: '#', from: first });
    expect(await socket.next('subscribed', (f) => f.id === 'b')).toMatchObject({
      resumed: false,
      reason: 'too_far_behind',
      replayed: 3,
    });
    await publish(1, 100);
    await socket.until(() => numbers(socket).includes(100), 'live events after a failed resume');
  });

  it('a bridge without a store says no_store and streams live events from the bus', async () => {
    const { createEventBus } = await import('@relaybus/core');
    const { events } = await import('./support/fixture');
    const bus = createEventBus({ events, source: 'no-store' });
    const { createWsBridge } = await import('../src/index');
    const bridge = createWsBridge({ bus, port: 0, authenticate: () => ({ id: 'x' }) });
    await bridge.ready;
    try {
      const socket = await TestSocket.open(`ws://127.0.0.1:${bridge.address().port}/relaybus`);
      sockets.push(socket);
      socket.send({ type: 'subscribe', id: 'a', sub: 's', pattern: '#', from: '00000001' });
      expect(await socket.next('subscribed')).toMatchObject({ resumed: false, reason: 'no_store' });
      await bus.publish(TaskCreated, { taskId: 'x', n: 1 });
      const frame = await socket.next('event');
      expect(frame.position).toBeUndefined();
      expect(frame.event).toMatchObject({ type: 'task.created', data: { n: 1 } });
    } finally {
      await bridge.close();
      await bus.close();
    }
  });
});

describe('authentication and authorization', () => {
  it('takes a bearer token from the subprotocol, a cookie, or a hello within the deadline', async () => {
    fixture = await startBridge({ helloTimeoutMs: 300 });
    const bearer = await open('bob');
    expect(bearer.ws.protocol).toBe(SUBPROTOCOL);
    const cookie = new TestSocket(fixture.url, { headers: { cookie: 'session=carol' } });
    sockets.push(cookie);
    await cookie.next('welcome');
    const hello = new TestSocket(fixture.url);
    sockets.push(hello);
    await new Promise((resolve) => hello.ws.once('open', resolve));
    hello.send({ type: 'subscribe', id: 'early', sub: 's', pattern: '#' });
    expect(await hello.next('error', (f) => f.code === 'unauthenticated')).toMatchObject({
      code: 'unauthenticated',
    });
    hello.send({ type: 'hello', token: 'dave' });
    await hello.next('welcome');
    const silent = new TestSocket(fixture.url);
    sockets.push(silent);
    expect((await silent.waitClosed()).code).toBe(CLOSE.unauthorized);
  });

  it('closes with 4001 for invalid credentials, refuses bad origins (403) and clients without the subprotocol (400)', async () => {
    fixture = await startBridge({ origins: ['https://app.example'] });
    const bad = new TestSocket(fixture.url, {
      token: 'bad-token',
      headers: { origin: 'https://app.example' },
    });
    sockets.push(bad);
    expect((await bad.waitClosed()).code).toBe(CLOSE.unauthorized);
    const status = (headers: Record<string, string>, protocols: string[]) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket((fixture as Fixture).url, protocols, { headers });
        ws.on('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
        ws.on('open', () => resolve(101));
        ws.on('error', () => {});
      });
    expect(await status({ origin: 'https://evil.example' }, [SUBPROTOCOL])).toBe(403);
    expect(await status({ origin: 'https://app.example' }, ['chat'])).toBe(400);
    expect(await status({ origin: 'https://app.example' }, [SUBPROTOCOL, 'relaybus.bearer.ok'])).toBe(101);
  });

  it('authorize.subscribe refuses a subscription; authorize.event hides events live and in replay', async () => {
    fixture = await startBridge({
      authorize: {
        subscribe: (_principal, selector) => selector.pattern !== 'user.*',
        event: (principal, event) => principal.id === 'admin' || (event.data as { n?: number }).n !== 2,
      },
    });
    const socket = await open('alice');
    socket.send({ type: 'subscribe', id: 'u', sub: 'users', pattern: 'user.*' });
    expect(await socket.next('error', (f) => f.id === 'u')).toMatchObject({
      code: 'forbidden',
      retry: false,
    });
    socket.send({ type: 'subscribe', id: 't', sub: 'tasks', pattern: 'task.*' });
    await socket.next('subscribed');
    await publish(4);
    await socket.until(() => numbers(socket).length === 3, '3 events');
    expect(numbers(socket)).toEqual([0, 1, 3]);
    const first = (await fixture.store.readPage({ limit: 1 })).events[0]?.position as string;
    const replaying = await open('alice');
    replaying.send({ type: 'subscribe', id: 'r', sub: 's', pattern: 'task.*', from: first });
    expect(await replaying.next('subscribed')).toMatchObject({ resumed: true, replayed: 2 });
    expect(numbers(replaying)).toEqual([1, 3]);
    const admin = await open('admin');
    admin.send({ type: 'subscribe', id: 'r', sub: 's', pattern: 'task.*', from: first });
    expect(await admin.next('subscribed')).toMatchObject({ replayed: 3 });
  });

  it('expired credentials close with 4201 unless refreshed in band; a refresh for someone else is refused', async () => {
    fixture = await startBridge();
    const expiring = await open('short-erin');
    const welcome = expiring.frames.find((f) => f.type === 'welcome');
    expect(welcome).toMatchObject({ expiresAt: expect.any(Number) });
    expect((await expiring.waitClosed(3_000)).code).toBe(CLOSE.tokenExpired);
    const refreshed = await open('short-frank');
    refreshed.send({ type: 'refresh', id: 'x', token: 'short-someone' });
    expect(await refreshed.next('error', (f) => f.id === 'x')).toMatchObject({ code: 'forbidden' });
    refreshed.send({ type: 'refresh', id: 'r', token: 'frank' });
    expect(await refreshed.next('refreshed')).toEqual({ type: 'refreshed', id: 'r' });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(refreshed.closed).toBeUndefined();
  });

  it('revoke(principal) closes that principal’s connections with 4003 and no other', async () => {
    fixture = await startBridge();
    const a1 = await open('mallory');
    const a2 = await open('mallory');
    const other = await open('trent');
    expect(fixture.bridge.revoke('mallory')).toBe(2);
    expect((await a1.waitClosed()).code).toBe(CLOSE.forbidden);
    expect((await a2.waitClosed()).code).toBe(CLOSE.forbidden);
    other.send({ type: 'ping', id: 'p' });
    await other.next('pong');
    expect(fixture.bridge.stats().connections).toBe(1);
  });
});

describe('backpressure and liveness', () => {
  it('closes a client that stopped reading with 4200 while the others receive every event', async () => {
    fixture = await startBridge({ backpressure: { maxBytes: 64 * 1024, maxEvents: 200 } });
    const stalled = await open();
    const healthy = await open();
    for (const socket of [stalled, healthy]) {
      socket.send({ type: 'subscribe', id: 'r', sub: 's', pattern: '#' });
      await socket.next('subscribed');
    }
    // The stalled client's socket stops reading: the kernel buffers fill, then the server's queue.
    (stalled.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    // 8 MB in all, more than loopback's kernel buffers absorb; the publisher yields now and then, as a real one would.
    await publishBig(1_000);
    await healthy.until(() => healthy.events().length === 1_000, 'every event on the healthy client', 15_000);
    expect(fixture.bridge.stats().slowConsumers).toBe(1);
    expect(fixture.bridge.stats().connections).toBe(1);
  });

  it('the drop policy skips events for a slow client, then sends lag with the last position delivered', async () => {
    fixture = await startBridge({ backpressure: { policy: 'drop', maxBytes: 32 * 1024, maxEvents: 50 } });
    const slow = await open();
    slow.send({ type: 'subscribe', id: 'r', sub: 's', pattern: '#' });
    await slow.next('subscribed');
    const socket = (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    socket.pause();
    await publishBig(1_000);
    expect(fixture.bridge.stats().dropped).toBeGreaterThan(0);
    socket.resume();
    const lag = await slow.next('lag', () => true, 5_000);
    expect(lag.dropped).toBeGreaterThan(0);
    const delivered = slow.events();
    expect(lag.from).toBe(delivered.at(-1)?.position);
    expect(slow.closed).toBeUndefined();
  });

  it('one shared heartbeat pings every connection and drops those that stopped answering', async () => {
    fixture = await startBridge({ heartbeatMs: 100 });
    const dead = await open('alice', { autoPong: false });
    const alive = await open('bob');
    await dead.waitClosed(2_000);
    expect(alive.closed).toBeUndefined();
    expect(fixture.bridge.stats().connections).toBe(1);
  });
});

describe('bad input', () => {
  it('answers malformed, unknown, binary and early frames with error frames, never crashes, and closes repeat offenders with 4005', async () => {
    fixture = await startBridge({ limits: { maxBadFrames: 5, messagesPerSecond: 1_000 } });
    const socket = await open();
    socket.send('not json');
    expect(await socket.next('error')).toMatchObject({
      code: 'bad_request',
      message: expect.stringContaining('JSON'),
    });
    socket.send({ type: 'shout' });
    expect(await socket.next('error')).toMatchObject({ code: 'unknown_message' });
    socket.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect(await socket.next('error')).toMatchObject({ message: expect.stringContaining('binary') });
    socket.send([1, 2]);
    await socket.next('error');
    socket.send({ type: 'hello', token: 'x' });
    await socket.next('error');
    socket.send('{');
    expect((await socket.waitClosed()).code).toBe(CLOSE.protocolError);
  });

  it('survives random and hostile frames (fuzz), and a later client works', async () => {
    fixture = await startBridge({ limits: { messagesPerSecond: 100_000, maxBadFrames: 1_000_000 } });
    const socket = await open();
    const hostile: unknown[] = [
      null,
      1,
      'x',
      [],
      {},
      { type: 1 },
      { type: 'subscribe' },
      { type: 'subscribe', id: 'x'.repeat(1_000), sub: 's', pattern: '#' },
      { type: 'subscribe', id: 'a', sub: {}, pattern: '#' },
      { type: 'subscribe', id: 'a', sub: 's', pattern: 42 },
      { type: 'subscribe', id: 'a', sub: 's', types: Array.from({ length: 1_000 }, (_, i) => `t${i}`) },
      { type: 'subscribe', id: 'a', sub: 's', pattern: '#', metadata: [] },
      { type: 'subscribe', id: 'a', sub: 's', pattern: '#', from: 5 },
      { type: 'unsubscribe' },
      { type: 'refresh', id: 'a' },
      { type: 'ping' },
      { type: '__proto__' },
      { type: 'constructor' },
      JSON.parse('{"type":"subscribe","id":"p","sub":"q","pattern":"#","__proto__":{"polluted":true}}'),
    ];
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let n = 0; n < 300; n++) {
      const bytes = Buffer.from(
        Array.from({ length: Math.floor(random() * 200) }, () => Math.floor(random() * 256)),
      );
      socket.send(n % 3 === 0 ? bytes.toString('latin1') : JSON.stringify(hostile[n % hostile.length]));
    }
    socket.send({ type: 'ping', id: 'end' });
    await socket.next('pong', (f) => f.id === 'end', 10_000);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    const oversize = await open();
    oversize.send({ type: 'ping', id: 'x'.repeat(20_000) });
    expect((await oversize.waitClosed()).code).toBe(1009);
    const later = await open();
    later.send({ type: 'subscribe', id: 'r', sub: 's', pattern: '#' });
    await later.next('subscribed');
  });

  it('refuses connections beyond maxConnections with 503 and Retry-After; handshakes beyond the rate wait in line', async () => {
    fixture = await startBridge({ limits: { maxConnections: 3, handshakesPerSecond: 2 } });
    const started = Date.now();
    const admitted = await Promise.all([open('a'), open('b'), open('c')]);
    // Two handshakes a second: the third waited for its turn instead of failing.
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    const refused = await new Promise<{ status: number; retryAfter: string | undefined }>((resolve) => {
      const ws = new WebSocket((fixture as Fixture).url, [SUBPROTOCOL, 'relaybus.bearer.d']);
      ws.on('unexpected-response', (_request, response) =>
        resolve({ status: response.statusCode ?? 0, retryAfter: response.headers['retry-after'] }),
      );
      ws.on('error', () => {});
    });
    expect(refused).toEqual({ status: 503, retryAfter: '5' });
    admitted[0]?.ws.terminate();
    await admitted[1]?.until(
      () => (fixture as Fixture).bridge.stats().connections === 2,
      'a slot to free up',
    );
    await open('e');
  });

  it('limits frames per second per connection with rate_limited', async () => {
    fixture = await startBridge({ limits: { messagesPerSecond: 5 } });
    const socket = await open();
    for (let n = 0; n < 20; n++) socket.send({ type: 'ping', id: `p${n}` });
    expect(await socket.next('error', (f) => f.code === 'rate_limited')).toMatchObject({ retry: true });
    expect(socket.closed).toBeUndefined();
  });

  it('checks its options and names the one at fault', async () => {
    const { createWsBridge } = await import('../src/index');
    const { memoryEventStore } = await import('@relaybus/core');
    const store = memoryEventStore();
    const authenticate = () => null;
    expect(() => createWsBridge({ port: 0, authenticate } as never)).toThrow(/"bus"/);
    expect(() => createWsBridge({ store, authenticate } as never)).toThrow(/"server"/);
    expect(() => createWsBridge({ store, port: 0, authenticate, path: 'x' })).toThrow(/"path"/);
    expect(() => createWsBridge({ store, port: 0, authenticate, heartbeatMs: -1 })).toThrow(/"heartbeatMs"/);
    expect(() =>
      createWsBridge({ store, port: 0, authenticate, backpressure: { policy: 'block' as never } }),
    ).toThrow(/backpressure.policy/);
  });
});

describe('shutdown', () => {
  it('close() says goodbye with a jittered reconnect delay and closes with 4100', async () => {
    fixture = await startBridge({ goodbye: { minMs: 100, spreadMs: 1_000 } });
    const clients = await Promise.all(Array.from({ length: 20 }, () => open()));
    await fixture.bridge.close();
    const delays = await Promise.all(
      clients.map(async (client) => {
        const goodbye = await client.next('goodbye');
        expect((await client.waitClosed()).code).toBe(CLOSE.goingAway);
        return goodbye.retryAfterMs;
      }),
    );
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(100);
    expect(Math.max(...delays)).toBeLessThan(1_100);
    expect(new Set(delays).size).toBeGreaterThan(5);
  });
});

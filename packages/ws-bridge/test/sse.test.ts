import { get, type IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { type Fixture, startBridge, TaskCreated, UserCreated } from './support/fixture';

let fixture: Fixture | undefined;
const open: IncomingMessage[] = [];
afterEach(async () => {
  for (const response of open.splice(0)) response.destroy();
  await fixture?.close();
  fixture = undefined;
});

interface SseEvent {
  id?: string;
  event?: string;
  data: string;
}

/** Opens the SSE endpoint and parses its events as they arrive. */
function stream(query: string, headers: Record<string, string> = {}) {
  const port = (fixture as Fixture).bridge.address().port;
  const received: SseEvent[] = [];
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: `/relaybus/sse?${query}`, headers }, (res) => {
      open.push(res);
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event: SseEvent = { data: '' };
          for (const line of block.split('\n')) {
            const [field, ...rest] = line.split(': ');
            const value = rest.join(': ');
            if (field === 'id') event.id = value;
            else if (field === 'event') event.event = value;
            else if (field === 'data') event.data = value;
          }
          received.push(event);
          end = buffer.indexOf('\n\n');
        }
      });
      resolve(res);
    }).on('error', reject);
  });
  const until = async (check: () => boolean, what: string): Promise<void> => {
    const deadline = Date.now() + 5_000;
    while (!check()) {
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what}: ${JSON.stringify(received)}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  const messages = () => received.filter((event) => event.event === undefined);
  return { response, received, until, messages };
}

describe('Server-Sent Events', () => {
  it('streams matching events with their position as id, and resumes from Last-Event-ID', async () => {
    fixture = await startBridge();
    const first = stream('pattern=task.*', { authorization: 'Bearer alice' });
    expect((await first.response).headers['content-type']).toMatch(/^text\/event-stream/);
    await first.until(() => first.received.some((event) => event.event === 'subscribed'), 'subscribed');
    for (let n = 0; n < 5; n++) await fixture.bus.publish(TaskCreated, { taskId: 't', n });
    await fixture.bus.publish(UserCreated, { userId: 'u' });
    await first.until(() => first.messages().length === 5, '5 events');
    const lastId = first.messages().at(-1)?.id as string;
    (await first.response).destroy();
    for (let n = 5; n < 8; n++) await fixture.bus.publish(TaskCreated, { taskId: 't', n });
    const second = stream('pattern=task.*', { authorization: 'Bearer alice', 'last-event-id': lastId });
    await second.until(() => second.messages().length === 3, 'the 3 missed events');
    const subscribed = second.received.find((event) => event.event === 'subscribed');
    expect(JSON.parse(subscribed?.data ?? '{}')).toMatchObject({ resumed: true, replayed: 3 });
    expect(second.messages().map((event) => JSON.parse(event.data).data.n)).toEqual([5, 6, 7]);
    await fixture.bus.publish(TaskCreated, { taskId: 't', n: 8 });
    await second.until(() => second.messages().length === 4, 'a live event after the replay');
  });

  it('refuses missing credentials (401), a malformed selector (400) and other methods (405)', async () => {
    fixture = await startBridge();
    const status = async (path: string, headers: Record<string, string> = {}, method = 'GET') =>
      new Promise<number>((resolve, reject) => {
        const port = (fixture as Fixture).bridge.address().port;
        const request = get({ host: '127.0.0.1', port, path, headers, method }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        request.on('error', reject);
      });
    expect(await status('/relaybus/sse?pattern=task.*')).toBe(401);
    expect(await status('/relaybus/sse?pattern=task..x', { authorization: 'Bearer a' })).toBe(400);
    expect(await status('/relaybus/sse', { authorization: 'Bearer a' })).toBe(400);
    expect(await status('/relaybus/sse?pattern=%23', { authorization: 'Bearer a' }, 'POST')).toBe(405);
    expect(await status('/elsewhere', { authorization: 'Bearer a' })).toBe(404);
  });
});

import { connect } from '@nats-io/transport-node';
import { RelaybusError, silentLogger, type Transport, TransportUnavailableError } from '@relaybus/core';
import { freePort } from '@relaybus/test-support';
import { natsTransport } from '@relaybus/transport-nats';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NATS_URL, uniquePrefix, useCleanup } from './support/nats';
import { NatsServer } from './support/nats-server';

const cleanup = useCleanup();
const opened: Transport[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((transport) => transport.close({ timeoutMs: 1_000 })));
});

function open(options: Parameters<typeof natsTransport>[0]): Transport {
  const transport = natsTransport({ logger: silentLogger, ...options });
  opened.push(transport);
  return transport;
}

async function rejection(run: () => Promise<unknown>): Promise<RelaybusError> {
  const error = await run().then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof RelaybusError)) throw new Error(`expected a RelaybusError, got ${String(error)}`);
  return error;
}

describe('an unreachable server', () => {
  it('fails publish, subscribe and declareGroup with TransportUnavailableError naming host:port', async () => {
    const port = await freePort();
    const transport = open({ servers: `127.0.0.1:${port}`, prefix: 'nowhere', timeoutMs: 1_000 });
    const message = { id: 'm1', topic: 'task.created', body: {} };
    for (const run of [
      () => transport.publish([message]),
      () => transport.subscribe({ topics: ['task.created'], group: 'g' }, () => {}),
      () => transport.declareGroup({ group: 'g', topics: ['task.created'] }),
    ]) {
      const error = await rejection(run);
      expect(error).toBeInstanceOf(TransportUnavailableError);
      expect(error.code).toBe('TRANSPORT_UNAVAILABLE');
      expect((error as TransportUnavailableError).address).toBe(`127.0.0.1:${port}`);
      expect(error.message).toContain(`127.0.0.1:${port}`);
    }
  });
});

describe('a server that requires credentials', () => {
  let server: NatsServer;
  beforeAll(async () => {
    server = await NatsServer.start(['--user', 'relay', '--pass', 's3cret']);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('refuses wrong credentials with a TransportError that says so, and works with the right ones', async () => {
    const wrong = open({
      servers: server.url,
      prefix: 'auth',
      connectOptions: { user: 'relay', pass: 'wrong' },
    });
    const error = await rejection(() => wrong.publish([{ id: 'm1', topic: 'a.b', body: {} }]));
    expect(error.code).toBe('TRANSPORT_FAILED');
    expect(error.message).toMatch(/refused the credentials/);
    expect(error.message).toContain(server.url);

    const right = open({
      servers: server.url,
      prefix: 'auth',
      connectOptions: { user: 'relay', pass: 's3cret' },
    });
    await right.publish([{ id: 'm1', topic: 'a.b', body: {} }]);
  });
});

describe('an oversize message', () => {
  it("is refused with PayloadTooLargeError before anything of the batch is sent, using the server's max_payload", async () => {
    const prefix = cleanup(uniquePrefix('size'));
    const transport = open({ servers: NATS_URL, prefix });
    const nc = await connect({ servers: NATS_URL });
    const maxPayload = nc.info?.max_payload ?? 0;
    await nc.close();
    const received: string[] = [];
    await transport.subscribe({ topics: ['blob.stored'] }, async (delivery) => {
      received.push(delivery.message.id);
      await delivery.ack();
    });
    const small = { id: 'small', topic: 'blob.stored', body: { data: 'x' } };
    const big = { id: 'big', topic: 'blob.stored', body: { data: 'x'.repeat(maxPayload) } };
    const error = await rejection(() => transport.publish([small, big]));
    expect(error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(error).toMatchObject({ messageId: 'big', maxBytes: maxPayload });
    expect(error.message).toContain('messages[1]');
    await transport.publish([{ ...small, id: 'sentinel' }]);
    await expect.poll(() => received).toEqual(['sentinel']);
  });
});

describe('invalid options', () => {
  it.each([
    [{}, 'servers'],
    [{ servers: [] }, 'servers'],
    [{ servers: '127.0.0.1:4222', prefix: 'a.b' }, 'prefix'],
    [{ servers: '127.0.0.1:4222', prefix: '_hidden' }, 'prefix'],
    [{ servers: '127.0.0.1:4222', stream: 'a__b' }, 'stream'],
    [{ servers: '127.0.0.1:4222', partitions: 0 }, 'partitions'],
    [{ servers: '127.0.0.1:4222', ackWaitMs: 10 }, 'ackWaitMs'],
    [{ servers: '127.0.0.1:4222', maxDeliver: 1 }, 'maxDeliver'],
    [{ servers: '127.0.0.1:4222', retention: { maxAgeMs: -5 } }, 'retention.maxAgeMs'],
    [{ servers: '127.0.0.1:4222', onError: 'log' }, 'onError'],
  ])('natsTransport(%j) throws InvalidOptionError naming %s', (options, option) => {
    let thrown: unknown;
    try {
      natsTransport(options as Parameters<typeof natsTransport>[0]);
    } catch (error) {
      thrown = error;
    }
    expect(RelaybusError.is(thrown, 'INVALID_OPTION')).toBe(true);
    expect((thrown as { option?: string }).option).toBe(option);
  });

  it('refuses topics and patterns that cannot be NATS subjects', async () => {
    const transport = open({ servers: NATS_URL, prefix: cleanup(uniquePrefix('names')) });
    const publishError = await rejection(() => transport.publish([{ id: 'm', topic: 'task.>', body: {} }]));
    expect(publishError).toMatchObject({ code: 'INVALID_OPTION', option: 'messages[0].topic' });
    const spaceError = await rejection(() => transport.subscribe({ topics: ['a b'] }, () => {}));
    expect(spaceError).toMatchObject({ code: 'INVALID_OPTION', option: 'topics[0]' });
    const patternError = await rejection(() => transport.subscribe({ pattern: 'task.>' }, () => {}));
    expect(patternError.code).toBe('INVALID_PATTERN');
  });
});

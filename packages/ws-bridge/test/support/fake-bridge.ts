import type { AddressInfo } from 'node:net';
import type { Envelope } from '@relaybus/core';
import { type WebSocket, WebSocketServer } from 'ws';
import {
  type ClientMessage,
  type EventMessage,
  type ServerMessage,
  SUBPROTOCOL,
  type SubscribedMessage,
  type WelcomeMessage,
} from '../../src/protocol';

/**
 * What the server sends beyond protocol.ts: `sub` on a replayed event, and `position` on `subscribed` (live events
 * follow after it).
 */
export type FakeFrame =
  | ServerMessage
  | (EventMessage & { readonly sub: string })
  | (SubscribedMessage & { readonly position?: string });

/** One connection the fake bridge accepted, as the server sees it. */
export interface FakeConnection {
  readonly socket: WebSocket;
  /** The subprotocol entries the client offered at upgrade. */
  readonly protocols: ReadonlyArray<string>;
  /** Every frame the client sent, in order. */
  readonly frames: ClientMessage[];
  /** The close code the client sent, once it closed the connection. */
  closeCode: number | undefined;
  send(frame: FakeFrame): void;
  /** The frames of one type the client sent. */
  sent<TType extends ClientMessage['type']>(type: TType): Array<Extract<ClientMessage, { type: TType }>>;
}

/** What the fake does on a frame; the default answers `subscribe` (resumed, nothing replayed) and `refresh`. */
export type FakeAnswer = (frame: ClientMessage, connection: FakeConnection) => void;

export const defaultAnswer: FakeAnswer = (frame, connection) => {
  if (frame.type === 'subscribe') {
    connection.send({ type: 'subscribed', id: frame.id, sub: frame.sub, resumed: true, replayed: 0 });
  } else if (frame.type === 'refresh') {
    connection.send({ type: 'refreshed', id: frame.id });
  }
};

/**
 * A protocol-speaking stand-in for the bridge server: selects the subprotocol, sends `welcome` (as `welcome` says,
 * or none when it returns `undefined`), records every frame and lets a test answer them.
 */
export class FakeBridge {
  readonly connections: FakeConnection[] = [];
  welcome: (connection: FakeConnection) => Omit<WelcomeMessage, 'type' | 'version'> | undefined = () => ({
    heartbeatMs: 60_000,
  });
  answer: FakeAnswer = defaultAnswer;
  readonly #server: WebSocketServer;

  private constructor(server: WebSocketServer) {
    this.#server = server;
    server.on('connection', (socket, request) =>
      this.#accept(socket, request.headers['sec-websocket-protocol']),
    );
  }

  static async start(): Promise<FakeBridge> {
    const server = new WebSocketServer({
      port: 0,
      host: '127.0.0.1',
      handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
    });
    await new Promise<void>((resolve) => server.once('listening', resolve));
    return new FakeBridge(server);
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.#server.address() as AddressInfo).port}/bridge`;
  }

  /** The latest connection. */
  get last(): FakeConnection {
    const connection = this.connections.at(-1);
    if (!connection) throw new Error('no client connected to the fake bridge yet');
    return connection;
  }

  /** Sends a frame on every open connection. */
  broadcast(frame: ServerMessage): void {
    for (const connection of this.connections) if (connection.closeCode === undefined) connection.send(frame);
  }

  async close(): Promise<void> {
    for (const client of this.#server.clients) client.terminate();
    await new Promise((resolve) => this.#server.close(resolve));
  }

  #accept(socket: WebSocket, header: string | undefined): void {
    const frames: ClientMessage[] = [];
    const connection: FakeConnection = {
      socket,
      protocols: header?.split(',').map((entry) => entry.trim()) ?? [],
      frames,
      closeCode: undefined,
      send: (frame) => socket.send(JSON.stringify(frame)),
      sent: (type) => frames.filter((frame) => frame.type === type) as never,
    };
    this.connections.push(connection);
    socket.on('close', (code) => {
      connection.closeCode = code;
    });
    socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as ClientMessage;
      frames.push(frame);
      this.answer(frame, connection);
    });
    const welcome = this.welcome(connection);
    if (welcome) connection.send({ type: 'welcome', version: 1, ...welcome });
  }
}

let nextId = 0;

/** An envelope for the fake to send. */
export function envelope<TType extends string>(
  type: TType,
  fields: Partial<Omit<Envelope<TType>, 'type'>> = {},
): Envelope<TType> {
  return {
    id: `e${++nextId}`,
    type,
    version: 1,
    time: new Date(0).toISOString(),
    source: 'fake-bridge',
    metadata: {},
    data: {},
    ...fields,
  };
}

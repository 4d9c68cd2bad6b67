import type { Envelope } from '@relaybus/core';
import { io } from 'socket.io-client';
import { WebSocket } from 'ws';
import { type BridgeFrame, RELAYBUS_PATH, SUBPROTOCOL, SUBSCRIBE_ALL } from './bridge-protocol';
import type { ClientKind } from './contenders';
import type { WsEventData } from './ws-event';

/** An open client connection of the load generator. */
export interface BenchClient {
  close(): void;
}

/** What a client does with what it receives: each event's payload, and a connection lost while open. */
export interface ClientHandlers {
  readonly onEvent: (data: WsEventData) => void;
  readonly onLost: (reason: string) => void;
}

/**
 * Opens one client of `kind` to the server on `port` of 127.0.0.1; resolves once it can receive broadcasts
 * (relaybus: once its subscription to every event type was confirmed). Every client parses each frame as JSON,
 * as an application would.
 */
export function connectClient(
  kind: ClientKind,
  port: number,
  handlers: ClientHandlers,
): Promise<BenchClient> {
  switch (kind) {
    case 'ws':
      return connectRawWs(port, handlers);
    case 'relaybus':
      return connectRelaybus(port, handlers);
    case 'socket.io':
      return connectSocketIo(port, handlers);
  }
}

/** A `ws` client whose `handle` gets each text frame parsed; fails the connect on error or close before `ready`. */
function connectWs(
  url: string,
  protocols: string[],
  handlers: ClientHandlers,
  handle: (frame: unknown, socket: WebSocket, ready: () => void, fail: (error: Error) => void) => void,
  readyOnOpen: boolean,
): Promise<BenchClient> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, protocols, { perMessageDeflate: false });
    let open = false;
    let closing = false;
    const client: BenchClient = {
      close() {
        closing = true;
        socket.terminate();
      },
    };
    const ready = (): void => {
      open = true;
      resolve(client);
    };
    const fail = (error: Error): void => {
      if (open) handlers.onLost(error.message);
      else reject(error);
      client.close();
    };
    socket.on('message', (raw) => handle(JSON.parse(raw.toString()), socket, ready, fail));
    socket.on('error', (error) => fail(error));
    socket.on('close', (code, reason) => {
      if (!closing) fail(new Error(`closed by the server (${code} ${reason.toString()})`));
    });
    if (readyOnOpen) socket.on('open', ready);
  });
}

function connectRawWs(port: number, handlers: ClientHandlers): Promise<BenchClient> {
  const { onEvent } = handlers;
  return connectWs(
    `ws://127.0.0.1:${port}`,
    [],
    handlers,
    (frame) => onEvent((frame as { event: Envelope<string, WsEventData> }).event.data),
    true,
  );
}

function connectRelaybus(port: number, handlers: ClientHandlers): Promise<BenchClient> {
  const { onEvent } = handlers;
  return connectWs(
    `ws://127.0.0.1:${port}${RELAYBUS_PATH}`,
    [SUBPROTOCOL],
    handlers,
    (received, socket, ready, fail) => {
      const frame = received as BridgeFrame;
      switch (frame.type) {
        case 'event':
          return onEvent(frame.event.data);
        case 'welcome':
          return socket.send(SUBSCRIBE_ALL);
        case 'subscribed':
          return ready();
        case 'error':
          return fail(new Error(`ws-bridge error ${frame.code}: ${frame.message}`));
        case 'goodbye':
          return fail(new Error(`ws-bridge goodbye: ${frame.reason}`));
      }
    },
    false,
  );
}

/** A Socket.IO client on the WebSocket transport only, without reconnection. */
function connectSocketIo(port: number, handlers: ClientHandlers): Promise<BenchClient> {
  return new Promise((resolve, reject) => {
    const socket = io(`http://127.0.0.1:${port}`, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    let closing = false;
    socket.on('event', (envelope: Envelope<string, WsEventData>) => handlers.onEvent(envelope.data));
    socket.once('connect', () =>
      resolve({
        close() {
          closing = true;
          socket.disconnect();
        },
      }),
    );
    socket.once('connect_error', reject);
    socket.on('disconnect', (reason) => {
      if (!closing) handlers.onLost(`Socket.IO disconnect: ${reason}`);
    });
  });
}

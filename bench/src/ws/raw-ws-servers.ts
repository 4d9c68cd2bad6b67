import type { Socket } from 'node:net';
import * as wsModule from 'ws';
import { WebSocket, WebSocketServer } from 'ws';
import type { BroadcastServer } from './broadcast-server';
import { eventFrame, rawEnvelope } from './ws-event';

/**
 * The parts of `ws` 8 the pre-framed contender uses that `@types/ws` leaves out: `Sender.frame` (what Socket.IO
 * uses to frame a broadcast once; `WebSocket.Sender` in CommonJS, a named export in ESM) and the socket under a
 * connection.
 */
interface FrameOptions {
  readonly fin: boolean;
  readonly opcode: number;
  readonly mask: boolean;
  readonly readOnly: boolean;
  readonly rsv1: boolean;
}
const { Sender } = wsModule as unknown as {
  Sender: { frame(data: Buffer, options: FrameOptions): Buffer[] };
};
const TEXT_FRAME: FrameOptions = { fin: true, opcode: 1, mask: false, readOnly: true, rsv1: false };

function socketOf(client: WebSocket): Socket {
  return (client as unknown as { _socket: Socket })._socket;
}

/** A `ws` server on a free port of 127.0.0.1 (no compression, the `ws` default for servers). */
async function listen(): Promise<{ server: WebSocketServer; port: number }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('ws server: no port');
  return { server, port: address.port };
}

/** Raw `ws`, the way most applications broadcast: the frame stringified again for each client. */
export async function rawNaiveServer(): Promise<BroadcastServer> {
  const { server, port } = await listen();
  return {
    port,
    broadcast(data) {
      const frame = eventFrame(rawEnvelope(data));
      for (const client of server.clients) {
        if (client.readyState === WebSocket.OPEN) client.send(JSON.stringify(frame));
      }
      return undefined;
    },
  };
}

/**
 * Raw `ws` at its limit: one `JSON.stringify`, one WebSocket frame (header and payload in one buffer), and the
 * same buffer written to each client's socket, bypassing `ws`'s per-send framing. Safe here because nothing else
 * writes to these sockets (no compression, no pings) while a broadcast runs.
 */
export async function rawPreframedServer(): Promise<BroadcastServer> {
  const { server, port } = await listen();
  return {
    port,
    broadcast(data) {
      const payload = Buffer.from(JSON.stringify(eventFrame(rawEnvelope(data))));
      const bytes = Buffer.concat(Sender.frame(payload, TEXT_FRAME));
      for (const client of server.clients) {
        if (client.readyState === WebSocket.OPEN) socketOf(client).write(bytes);
      }
      return undefined;
    },
  };
}

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import type { BroadcastServer } from './broadcast-server';
import { rawEnvelope } from './ws-event';

/** Socket.IO on its WebSocket transport only (no long-polling upgrade), at its defaults otherwise. */
export async function socketIoServer(): Promise<BroadcastServer> {
  const http = createServer();
  const io = new Server(http, { transports: ['websocket'], serveClient: false });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(0, '127.0.0.1', resolve);
  });
  return {
    port: (http.address() as AddressInfo).port,
    broadcast(data) {
      io.emit('event', rawEnvelope(data));
      return undefined;
    },
  };
}
